import type { UsageLedger } from '../../ports/stores.js';
import type { Tenant } from '../../ports/tenancy.js';

const n = (v: number) => v.toLocaleString('en-US');

/** `usage`: today and this month against the tenant's limits. */
export async function renderUsage(usage: UsageLedger, tenant: Tenant): Promise<string> {
  const [today, month] = await Promise.all([usage.today(tenant), usage.thisMonth(tenant)]);
  const l = tenant.limits;
  const pct = Math.min(100, Math.round((today.tokens / Math.max(1, l.tokensPerDay)) * 100));
  return [
    `Usage for plan **${tenant.plan}**:`,
    `• Today: ${n(today.tokens)} of ${n(l.tokensPerDay)} tokens (${pct}%), ${n(today.requests)} answers, ${n(today.rejected)} refused`,
    `• This month: ${n(month.tokens)} tokens, ${n(month.requests)} answers`,
    `• Limits: ${l.maxConcurrent} at once, ${n(l.requestsPerMinute)} per minute, ${n(l.maxDocuments)} documents`,
    'Limits are set by the operator of this deployment.',
  ].join('\n');
}
