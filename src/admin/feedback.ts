/**
 * `npm run admin -- feedback [--tenant platform:externalId] [--json]`: votes on answers per
 * tenant (today and this month, UTC) and the latest "not helpful" answers with their questions.
 */
import type { FeedbackReport } from '../ports/stores.js';
import type { TenantRef } from './inputs.js';
import { refText, requireTenant, type AdminDeps } from './commands.js';

export interface TenantFeedback extends FeedbackReport {
  tenant: string;
  name: string;
}

export async function feedbackReport(deps: AdminDeps, q: { tenant?: TenantRef } = {}): Promise<TenantFeedback[]> {
  const targets = q.tenant ? [await requireTenant(deps, q.tenant)] : await deps.tenants.list();
  const now = deps.now?.() ?? new Date();
  const out: TenantFeedback[] = [];
  for (const t of targets) {
    const report = await deps.answers.report(t, { now, latest: q.tenant ? 10 : 3 });
    // Without --tenant, tenants nobody voted in this month are left out.
    if (!q.tenant && report.month.positive + report.month.negative === 0) continue;
    out.push({ tenant: refText(t), name: t.name, ...report });
  }
  return out;
}

const clip = (text: string | null, max: number) => {
  const t = (text ?? '').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t || '(not kept)';
};

export function renderFeedback(rows: TenantFeedback[]): string {
  if (rows.length === 0) return 'No feedback on answers this month.';
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(
      `${r.tenant}${r.name ? ` (${r.name})` : ''}: today ${r.today.positive} helpful / ${r.today.negative} not helpful; this month ${r.month.positive} / ${r.month.negative}`,
    );
    for (const n of r.latestNegative) {
      lines.push(`  not helpful ${n.at.toISOString().slice(0, 16).replace('T', ' ')} UTC by ${n.by} in ${n.channelId} (${n.persona})`);
      lines.push(`    Q: ${clip(n.question, 100)}`);
      lines.push(`    A: ${clip(n.answer, 140)}`);
    }
  }
  return lines.join('\n');
}
