/** Text for the operator: what each command's result looks like on a terminal. */
import { limitKeys } from '../limits/plans.js';
import type { PlanChange, PurgeResult, TenantDetails, UsageRow } from './commands.js';
import { formatTable } from './table.js';
import type { TenantLimits, Tenant } from '../ports/tenancy.js';

const n = (v: number) => v.toLocaleString('en-US');
const ymd = (d: Date) => d.toISOString().slice(0, 10);
const ref = (t: Pick<Tenant, 'platform' | 'externalId'>) => `${t.platform}:${t.externalId}`;

function overridesText(o: Record<string, number>): string {
  const parts = Object.entries(o).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(' ') : 'none';
}

export function renderTenantList(list: Tenant[]): string {
  if (list.length === 0) return 'No tenants yet.';
  return formatTable(
    ['PLATFORM', 'EXTERNAL ID', 'NAME', 'STATUS', 'PLAN', 'OVERRIDES', 'CREATED'],
    list.map((t) => [t.platform, t.externalId, t.name, t.status, t.plan, overridesText(t.limitOverrides), ymd(t.createdAt)]),
  );
}

export function tenantJson(t: Tenant) {
  return {
    platform: t.platform,
    externalId: t.externalId,
    tenantId: t.tenantId,
    name: t.name,
    status: t.status,
    plan: t.plan,
    limitOverrides: t.limitOverrides,
    limits: t.limits,
    retentionDays: t.retentionDays,
    chosenRetentionDays: t.chosenRetentionDays,
    createdAt: t.createdAt.toISOString(),
  };
}

export function renderTenantDetails(d: TenantDetails): string {
  const t = d.tenant;
  const pct = Math.min(999, Math.round((d.today.tokens / Math.max(1, t.limits.tokensPerDay)) * 100));
  const lines = [
    `Tenant ${ref(t)}`,
    `  id:              ${t.tenantId}`,
    `  name:            ${t.name || '(none)'}`,
    `  status:          ${t.status}`,
    `  plan:            ${t.plan}`,
    `  installed by:    ${t.installedBy ?? '(unknown)'}`,
    `  default persona: ${t.defaultPersona ?? '(built-in default)'}`,
    `  retention:       ${t.retentionDays} days (${t.chosenRetentionDays === null ? "the plan's longest" : `an admin chose ${t.chosenRetentionDays}`})`,
    `  created:         ${t.createdAt.toISOString()}`,
    `  documents:       ${n(d.documents)}`,
    '',
    'Effective limits:',
    formatTable(
      ['LIMIT', { header: 'VALUE', right: true }, 'FROM'],
      d.limits.map((l) => [l.key, l.value, l.source]),
    ),
    '',
    'Usage (UTC):',
    `  today:      ${n(d.today.tokens)} of ${n(t.limits.tokensPerDay)} tokens (${pct}%), ${n(d.today.requests)} requests, ${n(d.today.rejected)} refused`,
    `  this month: ${n(d.month.tokens)} tokens, ${n(d.month.requests)} requests, ${n(d.month.rejected)} refused`,
    '',
    'Recent audit entries:',
  ];
  if (d.audit.length === 0) lines.push('  (none)');
  else {
    lines.push(
      formatTable(
        ['WHEN', 'ACTOR', 'ACTION', 'DETAIL'],
        d.audit.map((a) => [a.createdAt.toISOString().replace(/\.\d+Z$/, 'Z'), a.actor, a.action, JSON.stringify(a.detail)]),
      ),
    );
  }
  return lines.join('\n');
}

export function renderPlanChange(c: PlanChange): string {
  const { before, after } = c;
  const lines = [
    `${ref(after)}: plan ${before.plan === after.plan ? after.plan : `${before.plan} -> ${after.plan}`}, ` +
      `overrides ${overridesText(after.limitOverrides)}`,
  ];
  const changed = limitKeys.filter((k) => before.limits[k] !== after.limits[k]);
  for (const k of changed) lines.push(`  ${k}: ${n(before.limits[k])} -> ${n(after.limits[k])}`);
  if (changed.length === 0) lines.push('  effective limits unchanged');
  lines.push('Running instances pick this up within 5 seconds (tenant cache).');
  return lines.join('\n');
}

export function renderStatusChange(c: PlanChange): string {
  const { before, after } = c;
  if (before.status === after.status) return `${ref(after)} is already ${after.status}.`;
  return `${ref(after)}: ${before.status} -> ${after.status}. Running instances pick this up within 5 seconds (tenant cache).`;
}

export function renderPurge(r: PurgeResult): string {
  return [
    `Purged ${ref(r.tenant)} (${r.tenant.tenantId}). Rows deleted:`,
    formatTable(
      ['TABLE', { header: 'ROWS', right: true }],
      Object.entries(r.deleted).map(([table, rows]) => [table, rows]),
    ),
    `Vectors: ${r.vectors}.`,
  ].join('\n');
}

export function renderUsage(r: { from: string; to: string; rows: UsageRow[] }): string {
  const head = `Usage per tenant and UTC day, ${r.from} to ${r.to}:`;
  if (r.rows.length === 0) return `${head}\n(no usage recorded)`;
  const num = (header: string) => ({ header, right: true });
  return [
    head,
    formatTable(
      ['TENANT', 'DAY', num('REQUESTS'), num('PROMPT'), num('COMPLETION'), num('TOKENS'), num('REFUSED')],
      r.rows.map((u) => [`${u.platform}:${u.externalId}`, u.day, u.requests, u.promptTokens, u.completionTokens, u.tokens, u.rejected]),
    ),
  ].join('\n');
}

export function renderPlans(list: { name: string; limits: TenantLimits }[]): string {
  return formatTable(
    ['LIMIT', ...list.map((p) => ({ header: p.name.toUpperCase(), right: true }))],
    limitKeys.map((k) => [k, ...list.map((p) => p.limits[k])]),
  );
}
