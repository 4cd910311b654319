/**
 * The operator's commands as plain functions over the stores: they validate, change the
 * database and return data; render.ts turns that data into text and cli.ts only parses
 * arguments. Tests call these functions directly against a real database.
 */
import { and, asc, count, eq, gte, lte } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { documents, tenants, usage } from '../db/schema.js';
import { countTenantRows } from '../governance/tenant-tables.js';
import type { StoredPassage } from '../retrieval/vector-store.js';
import { limitKeys, plans } from '../limits/plans.js';
import type { TenantRegistry } from '../tenancy/registry.js';
import { utcDay, type UsageMeter } from '../usage/meter.js';
import { AdminInputError, addDays, parseLimitKey, parsePlan, type TenantRef } from './inputs.js';
import type { KnowledgeBase } from '../ports/knowledge.js';
import type { AuditEntry, UsageTotals } from '../ports/stores.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AnswerBook } from '../ports/stores.js';
import type { TenantLimits, Tenant, TenantScope } from '../ports/tenancy.js';

export { countTenantRows } from '../governance/tenant-tables.js';

/** What an operator command may touch; only purge and ingest need the knowledge base. */
export interface AdminDeps {
  db: Db;
  tenants: TenantRegistry;
  usage: UsageMeter;
  audit: AuditLog;
  answers: AnswerBook;
  /** The tenant documents (or why there are none); it reaches Ollama and Qdrant only when used. */
  knowledge?: KnowledgeAccess;
  /** Reads a document's passages back from the vector store (an export of documents added before their text was kept). */
  passages?: (scope: TenantScope, documentId: string) => Promise<StoredPassage[]>;
  now?: () => Date;
}

export type KnowledgeAccess = { knowledge: KnowledgeBase; reason?: undefined } | { knowledge: undefined; reason: string };

/** Every operator change is audited under this actor. */
export const OPERATOR = 'operator';

export const refText = (r: TenantRef) => `${r.platform}:${r.externalId}`;

export async function requireTenant(deps: AdminDeps, ref: TenantRef): Promise<Tenant> {
  const t = await deps.tenants.resolve(ref.platform, ref.externalId);
  if (!t) throw new AdminInputError(`no tenant ${refText(ref)}; see "tenants list"`);
  return t;
}

export async function listTenants(deps: AdminDeps): Promise<Tenant[]> {
  return deps.tenants.list();
}

export interface LimitLine {
  key: keyof TenantLimits;
  value: number;
  /** 'override' when the operator set it for this tenant, else 'plan'. */
  source: 'plan' | 'override';
}

export interface TenantDetails {
  tenant: Tenant;
  limits: LimitLine[];
  today: UsageTotals;
  month: UsageTotals;
  documents: number;
  audit: AuditEntry[];
}

export async function showTenant(deps: AdminDeps, ref: TenantRef, auditEntries = 10): Promise<TenantDetails> {
  const tenant = await requireTenant(deps, ref);
  const [today, month, docRows, audit] = await Promise.all([
    deps.usage.today(tenant),
    deps.usage.thisMonth(tenant),
    deps.db.select({ n: count() }).from(documents).where(eq(documents.tenantId, tenant.tenantId)),
    deps.audit.recent(tenant, auditEntries),
  ]);
  const limits = limitKeys.map((key) => ({
    key,
    value: tenant.limits[key],
    source: typeof tenant.limitOverrides[key] === 'number' ? ('override' as const) : ('plan' as const),
  }));
  return { tenant, limits, today, month, documents: Number(docRows[0]?.n ?? 0), audit };
}

export interface LimitChange {
  /** key=value pairs to set (already validated by parseLimitAssignments). */
  set?: Partial<TenantLimits>;
  /** Keys whose override is removed (the plan's value applies again). */
  unset?: string[];
  /** Drop every override first. */
  clear?: boolean;
}

export interface PlanChange {
  before: Tenant;
  after: Tenant;
}

function applyLimitChange(current: Record<string, number>, change: LimitChange): Record<string, number> {
  const next: Record<string, number> = change.clear ? {} : { ...current };
  for (const k of change.unset ?? []) delete next[parseLimitKey(k)];
  for (const [k, v] of Object.entries(change.set ?? {})) if (typeof v === 'number') next[k] = v;
  return next;
}

/**
 * Changes the tenant's plan. Existing overrides are kept unless `clear`; `set`/`unset` adjust
 * them in the same write, so the tenant never runs on a half-applied change.
 */
export async function setPlan(deps: AdminDeps, ref: TenantRef, planName: string, change: LimitChange = {}): Promise<PlanChange> {
  const plan = parsePlan(planName);
  const before = await requireTenant(deps, ref);
  const overrides = applyLimitChange(before.limitOverrides, change);
  const after = await deps.tenants.setPlan(ref.platform, ref.externalId, plan, overrides);
  if (!after) throw new AdminInputError(`no tenant ${refText(ref)}; see "tenants list"`);
  await deps.audit.record(after, OPERATOR, 'plan.set', {
    from: before.plan,
    to: plan,
    overridesBefore: before.limitOverrides,
    overrides,
  });
  return { before, after };
}

/** Changes only the overrides; the plan stays. */
export async function setLimits(deps: AdminDeps, ref: TenantRef, change: LimitChange): Promise<PlanChange> {
  if (!change.clear && !change.unset?.length && !Object.keys(change.set ?? {}).length) {
    throw new AdminInputError('nothing to change; give --set key=value, --unset key or --clear');
  }
  const before = await requireTenant(deps, ref);
  const overrides = applyLimitChange(before.limitOverrides, change);
  const after = await deps.tenants.setPlan(ref.platform, ref.externalId, before.plan, overrides);
  if (!after) throw new AdminInputError(`no tenant ${refText(ref)}; see "tenants list"`);
  await deps.audit.record(after, OPERATOR, 'limits.set', { overridesBefore: before.limitOverrides, overrides });
  return { before, after };
}

export async function setEnabled(deps: AdminDeps, ref: TenantRef, enabled: boolean): Promise<PlanChange> {
  const before = await requireTenant(deps, ref);
  if (enabled && before.status === 'uninstalled') {
    // Re-activating an uninstalled tenant would answer on a workspace with no valid install.
    throw new AdminInputError(`${refText(ref)} is uninstalled, not disabled; it becomes active again when reinstalled`);
  }
  const status = enabled ? 'active' : 'disabled';
  const after = (await deps.tenants.setStatus(ref.platform, ref.externalId, status))!;
  if (before.status !== status) {
    await deps.audit.record(after, OPERATOR, enabled ? 'tenant.enable' : 'tenant.disable', { from: before.status });
  }
  return { before, after };
}

export interface PurgeResult {
  tenant: Tenant;
  /** Rows deleted per tenant table (src/governance/tenant-tables.ts), the tenants row itself included. */
  deleted: Record<string, number>;
  /** 'deleted', or why there was nothing to delete in a vector store. */
  vectors: string;
}

/**
 * Deletes the tenant and everything it owns. Vectors go first: they live outside the
 * database, and once the tenants row is gone nothing would name them any more.
 */
export async function purgeTenant(deps: AdminDeps, ref: TenantRef, opts: { yes: boolean }): Promise<PurgeResult> {
  if (!opts.yes) {
    throw new AdminInputError(`purge deletes every row and document of ${refText(ref)} for good; add --yes to confirm`);
  }
  const tenant = await requireTenant(deps, ref);
  // Counted before knowledge.purge, which already deletes the documents rows.
  const documentCount = (await countTenantRows(deps.db, tenant.tenantId)).documents ?? 0;
  let vectors = 'none (no knowledge base configured)';
  const access = deps.knowledge;
  if (access?.knowledge) {
    try {
      await access.knowledge.purge(tenant);
    } catch (err) {
      throw new Error(
        `could not delete the vectors of ${refText(ref)} (${firstLine(err)}); ` +
          'the tenant was kept; retry when Ollama and the vector store are reachable',
        { cause: err },
      );
    }
    vectors = 'deleted';
  } else if (access) {
    vectors = `none (${access.reason})`;
  }
  const deleted = await deps.db.transaction(async (tx) => {
    const counts = await countTenantRows(tx as unknown as Db, tenant.tenantId);
    const gone = await tx.delete(tenants).where(eq(tenants.id, tenant.tenantId)).returning({ id: tenants.id });
    return { ...counts, documents: Math.max(counts.documents ?? 0, documentCount), tenants: gone.length };
  });
  deps.tenants.invalidate(ref.platform, ref.externalId);
  return { tenant, deleted, vectors };
}

/** The most telling line of an error: a driver's own message (the cause) over the wrapper's. */
export function firstLine(err: unknown): string {
  const e = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

export interface UsageQuery {
  tenant?: TenantRef;
  from?: string;
  to?: string;
}

export interface UsageRow extends UsageTotals {
  platform: string;
  externalId: string;
  name: string;
  day: string;
}

export const DEFAULT_USAGE_DAYS = 30;

/** Usage per tenant and UTC day; by default the last 30 days up to today. */
export async function usageReport(deps: AdminDeps, q: UsageQuery = {}): Promise<{ from: string; to: string; rows: UsageRow[] }> {
  const today = utcDay(deps.now?.() ?? new Date());
  const to = q.to ?? (q.from && q.from > today ? q.from : today);
  const from = q.from ?? addDays(to, -(DEFAULT_USAGE_DAYS - 1));
  if (from > to) throw new AdminInputError(`--from ${from} is after --to ${to}`);
  const conditions = [gte(usage.day, from), lte(usage.day, to)];
  if (q.tenant) {
    const t = await requireTenant(deps, q.tenant);
    conditions.push(eq(usage.tenantId, t.tenantId));
  }
  const rows = await deps.db
    .select({
      platform: tenants.platform,
      externalId: tenants.externalId,
      name: tenants.name,
      day: usage.day,
      requests: usage.requests,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      rejected: usage.rejected,
    })
    .from(usage)
    .innerJoin(tenants, eq(tenants.id, usage.tenantId))
    .where(and(...conditions))
    .orderBy(asc(tenants.platform), asc(tenants.externalId), asc(usage.day));
  return {
    from,
    to,
    rows: rows.map((r) => {
      const promptTokens = Number(r.promptTokens);
      const completionTokens = Number(r.completionTokens);
      return { ...r, promptTokens, completionTokens, tokens: promptTokens + completionTokens };
    }),
  };
}

export function listPlans(): { name: string; limits: TenantLimits }[] {
  return Object.entries(plans).map(([name, limits]) => ({ name, limits }));
}
