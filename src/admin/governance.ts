/**
 * The operator's data-governance commands: a tenant's export to an NDJSON file, erasure of one
 * user's data, and the audit log (one tenant's, or every tenant's newest entries). Functions
 * return data; the render functions below turn it into text, like commands.ts and render.ts.
 */
import { createWriteStream } from 'node:fs';
import { access, rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { desc, eq } from 'drizzle-orm';
import { auditLog, tenants } from '../db/schema.js';
import { exportTenant, type ExportSummary } from '../governance/export.js';
import { forgetUser, type ErasureResult } from '../governance/erasure.js';
import type { Tenant } from '../ports/tenancy.js';
import { OPERATOR, refText, requireTenant, type AdminDeps } from './commands.js';
import { AdminInputError, type TenantRef } from './inputs.js';
import { rowProgress, type ProgressStream } from './progress.js';
import { formatTable } from './table.js';

export interface ExportResult extends ExportSummary {
  tenant: Tenant;
  file: string;
  bytes: number;
  seconds: number;
}

/**
 * Writes the tenant's export to `file` (0600: it holds the tenant's conversations). It is written
 * as `file.partial` and renamed when complete, so a file under the asked-for name is never a cut
 * one; an existing file is never overwritten.
 */
export async function exportToFile(deps: AdminDeps, ref: TenantRef, file: string, progress?: ProgressStream): Promise<ExportResult> {
  if (!file) throw new AdminInputError('missing --out FILE (where the export goes)');
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (exists) throw new AdminInputError(`${file} exists; choose another --out, or move it away first`);
  const tenant = await requireTenant(deps, ref);
  const partial = `${file}.partial`;
  const out = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  const started = performance.now();
  const bar = progress ? rowProgress(progress) : undefined;
  let opened = false;
  try {
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
    opened = true;
    const summary = await exportTenant({ db: deps.db, ...(deps.passages ? { passages: deps.passages } : {}), ...(deps.now ? { now: deps.now } : {}) }, tenant, out, (p) =>
      bar?.update(p.done, p.total, p.type),
    );
    out.end();
    await finished(out);
    bar?.finish();
    await rename(partial, file);
    await deps.audit.record(tenant, OPERATOR, 'tenant.export', { rows: summary.total });
    return { ...summary, tenant, file, bytes: out.bytesWritten, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    out.destroy();
    // Only a partial file this run began is removed (another export may own one of the same name).
    if (opened) await rm(partial, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new AdminInputError(`${partial} exists (another export running?); remove it first`);
    throw err;
  }
}

export function renderExport(r: ExportResult): string {
  const lines = Object.entries(r.rows).map(([type, n]) => [type, n]);
  return [
    `Exported ${refText(r.tenant)} to ${r.file}: ${r.total.toLocaleString('en-US')} records, ${(r.bytes / 1024 / 1024).toFixed(1)} MB in ${r.seconds.toFixed(1)} s.`,
    formatTable(['RECORD TYPE', { header: 'RECORDS', right: true }], lines),
    'No tokens or sealed secrets are in it, and no vectors (documents carry their text). It holds private conversations: keep it safe.',
  ].join('\n');
}

export async function forgetUserData(deps: AdminDeps, ref: TenantRef, userId: string, opts: { yes: boolean }): Promise<ErasureResult & { tenant: Tenant; userId: string }> {
  if (!opts.yes) throw new AdminInputError(`users forget deletes ${userId}'s data in ${refText(ref)} for good; add --yes to confirm`);
  const tenant = await requireTenant(deps, ref);
  const result = await forgetUser({ db: deps.db, audit: deps.audit, invalidate: (t) => deps.tenants.invalidate(t.platform, t.externalId) }, tenant, userId, OPERATOR);
  return { ...result, tenant, userId };
}

export function renderForget(r: ErasureResult & { tenant: Tenant; userId: string }): string {
  const rows = Object.entries(r.tables).map(([table, c]) => [table, c.deleted, c.marked, c.kept?.rows ?? 0]);
  const lines = [
    `Forgot ${r.userId} in ${refText(r.tenant)}:`,
    formatTable(['TABLE', { header: 'DELETED', right: true }, { header: 'MARKED', right: true }, { header: 'KEPT', right: true }], rows),
    'MARKED: rows that stay (audit entries, documents and personas they added) with their id replaced by "[forgotten user]" or removed.',
  ];
  for (const [table, c] of Object.entries(r.tables)) if (c.kept) lines.push(`Kept in ${table}: ${c.kept.rows} ${c.kept.why}.`);
  if (r.wasInstaller) {
    lines.push(
      'They had installed the app: the tenant no longer names them, but the sealed installation record the platform issued ' +
        '(the bot token it needs) still holds their id until the app is reinstalled by someone else or uninstalled.',
    );
  }
  lines.push('An audit entry "user.forget" records the counts, not the user.');
  return lines.join('\n');
}

export interface AuditRow {
  platform: string;
  externalId: string;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
  createdAt: Date;
}

/** The newest audit entries of one tenant, or of every tenant (the operator's view). */
export async function auditReport(deps: AdminDeps, q: { tenant?: TenantRef; limit?: number }): Promise<AuditRow[]> {
  const limit = q.limit ?? 50;
  const query = deps.db
    .select({
      platform: tenants.platform,
      externalId: tenants.externalId,
      actor: auditLog.actor,
      action: auditLog.action,
      detail: auditLog.detail,
      createdAt: auditLog.createdAt,
    })
    .from(auditLog)
    .innerJoin(tenants, eq(tenants.id, auditLog.tenantId));
  if (q.tenant) {
    const t = await requireTenant(deps, q.tenant);
    return query.where(eq(auditLog.tenantId, t.tenantId)).orderBy(desc(auditLog.id)).limit(limit);
  }
  return query.orderBy(desc(auditLog.id)).limit(limit);
}

export function renderAudit(rows: AuditRow[], tenant?: TenantRef): string {
  if (rows.length === 0) return tenant ? `No audit entries for ${refText(tenant)}.` : 'No audit entries.';
  return formatTable(
    ['WHEN', ...(tenant ? [] : ['TENANT']), 'ACTOR', 'ACTION', 'DETAIL'],
    rows.map((a) => [
      a.createdAt.toISOString().replace(/\.\d+Z$/, 'Z'),
      ...(tenant ? [] : [`${a.platform}:${a.externalId}`]),
      a.actor,
      a.action,
      JSON.stringify(a.detail),
    ]),
  );
}
