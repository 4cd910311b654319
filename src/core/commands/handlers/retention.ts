/**
 * `retention <days>` and `retention show`: how long this tenant's conversations are kept. Admins
 * may shorten the plan's longest retention for their workspace, never lengthen it; the operator
 * sets the plan. The sweep (src/governance/retention-sweep.ts) deletes what is older.
 */
import { BotError, ErrorCode, type Vocabulary } from '../../../ports/errors.js';
import { keptFor } from '../../../ports/retention.js';
import type { Tenant } from '../../../ports/tenancy.js';
import type { HandlerTable } from './context.js';

const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`;

function rules(tenant: Tenant, v: Vocabulary): string {
  const chosen =
    tenant.chosenRetentionDays === null
      ? `the plan's longest (an admin may choose fewer days with \`retention <days>\`)`
      : `chosen by an admin; the plan allows up to ${days(tenant.limits.retentionDays)}`;
  return [
    `Conversations in this ${v.workspace} are kept for **${days(tenant.retentionDays)}** (${chosen}).`,
    `• Messages and answers older than that are deleted, checked every ${keptFor.sweepMinutes} minutes.`,
    `• Questions waiting to be answered are kept until answered, then at most ${keptFor.finishedJobHours} hours.`,
    `• Usage counts (numbers only) are kept ${days(keptFor.usageDays)}; the audit log of admin changes ${days(keptFor.auditDays)}.`,
    '• Documents, personas and channel settings stay until an admin removes them.',
  ].join('\n');
}

export const retentionHandlers = {
  retention: async ({ deps, tenant, actor, vocabulary }, { days: wanted }) => {
    if (wanted === undefined) return { text: rules(tenant, vocabulary) };
    const longest = tenant.limits.retentionDays;
    if (wanted > longest) {
      throw new BotError(
        ErrorCode.LimitReached,
        (v) => `This ${v.workspace}'s plan keeps conversations at most ${days(longest)}; choose ${longest} or fewer. The operator of this deployment sets the plan.`,
      );
    }
    const after = await deps.tenants.setRetention(tenant, wanted);
    await deps.audit.record(tenant, actor, 'retention.set', { days: wanted, before: tenant.retentionDays });
    const shorter = wanted < tenant.retentionDays ? ' Older messages will be deleted within the hour.' : '';
    return { text: `Conversations are now kept for ${days(after?.retentionDays ?? wanted)}.${shorter}` };
  },
} satisfies Partial<HandlerTable>;
