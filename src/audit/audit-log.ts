/** Who changed which setting: one row per admin change. */
import { and, count, desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { auditLog } from '../db/schema.js';
import type { TenantScope } from '../ports/tenancy.js';
import type { AuditEntry, AuditTrail } from '../ports/stores.js';

export class AuditLog implements AuditTrail {
  constructor(private readonly db: Db) {}

  async record(scope: TenantScope, actor: string, action: string, detail: Record<string, unknown> = {}): Promise<void> {
    await this.db.insert(auditLog).values({ tenantId: scope.tenantId, actor, action, detail });
  }

  async recent(scope: TenantScope, limit = 50, action?: string, offset = 0): Promise<AuditEntry[]> {
    return this.db
      .select({ actor: auditLog.actor, action: auditLog.action, detail: auditLog.detail, createdAt: auditLog.createdAt })
      .from(auditLog)
      .where(this.ofTenant(scope, action))
      .orderBy(desc(auditLog.id))
      .limit(limit)
      .offset(offset);
  }

  async count(scope: TenantScope, action?: string): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(auditLog).where(this.ofTenant(scope, action));
    return Number(row?.n ?? 0);
  }

  private ofTenant(scope: TenantScope, action: string | undefined) {
    return action ? and(eq(auditLog.tenantId, scope.tenantId), eq(auditLog.action, action)) : eq(auditLog.tenantId, scope.tenantId);
  }
}
