/**
 * Erasure of one person's data in one tenant (`npm run admin -- users forget`): every tenant
 * table forgets the user its own way (tenant-tables.ts): their messages and the answers written
 * for them alone, their finished questions, their sealed user token; their id in rows that stay
 * (audit entries, "added by") becomes a marker. All in one transaction, then one audit row that
 * says what was done without naming them.
 */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { tenants } from '../db/schema.js';
import type { AuditTrail } from '../ports/stores.js';
import type { Tenant } from '../ports/tenancy.js';
import type { ForgetCount } from './forget-count.js';
import { tenantTables } from './tenant-tables.js';

export interface ErasureResult {
  /** What each table did, by table name (tables that name no user are left out). */
  tables: Record<string, ForgetCount>;
  /** The user had installed the app: the tenant no longer names them as its installer. */
  wasInstaller: boolean;
}

export interface ErasureDeps {
  db: Db;
  audit: AuditTrail;
  /** Tells the tenant cache that the tenant row changed (its installer). */
  invalidate?: (tenant: Tenant) => void;
}

export async function forgetUser(deps: ErasureDeps, tenant: Tenant, userId: string, actor: string): Promise<ErasureResult> {
  if (!userId.trim()) throw new Error('a user id is needed');
  const result = await deps.db.transaction(async (tx) => {
    const tables: Record<string, ForgetCount> = {};
    for (const t of tenantTables) {
      if (t.forget) tables[t.name] = await t.forget(tx as unknown as Db, tenant.tenantId, userId);
    }
    const installer = await tx
      .update(tenants)
      .set({ installedBy: null, updatedAt: new Date() })
      .where(and(eq(tenants.id, tenant.tenantId), eq(tenants.installedBy, userId)))
      .returning({ id: tenants.id });
    return { tables, wasInstaller: installer.length > 0 };
  });
  if (result.wasInstaller) deps.invalidate?.(tenant);
  const counts = Object.fromEntries(
    Object.entries(result.tables).map(([name, c]) => [name, { deleted: c.deleted, marked: c.marked, kept: c.kept?.rows ?? 0 }]),
  );
  // The record of the erasure must not name whom it erased.
  await deps.audit.record(tenant, actor, 'user.forget', { tables: counts, installer: result.wasInstaller });
  return result;
}
