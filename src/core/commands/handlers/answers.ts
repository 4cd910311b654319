/** Feedback on answers and the assistant view's suggested prompts. */
import { BotError, ErrorCode } from '../../../ports/errors.js';
import { defaultSuggestedPrompts, promptLimits, type FeedbackCounts, type NegativeFeedback } from '../../../ports/stores.js';
import type { HandlerTable } from './context.js';

const when = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const clip = (text: string | null, max: number) => {
  const t = (text ?? '').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};
const counts = (c: FeedbackCounts) => `${c.positive} helpful, ${c.negative} not helpful`;

function negativeLine(n: NegativeFeedback): string {
  const sources = n.sources.length ? ` (sources: ${n.sources.slice(0, 3).join(', ')})` : '';
  return `• ${when(n.at)} — channel ${n.channelId} — ${n.persona}${sources}\n  Q: ${clip(n.question, 120) || '(not kept)'}\n  A: ${clip(n.answer, 160) || '(not kept)'}`;
}

/** `a | b | c` into at most promptLimits.count prompts; a bad list is refused whole. */
export function parsePrompts(text: string): string[] {
  const prompts = text
    .split('|')
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p !== '');
  if (prompts.length === 0) throw new BotError(ErrorCode.InvalidInput, 'Give at least one prompt, for example `prompts set What can you do? | Summarize our policy`.');
  if (prompts.length > promptLimits.count) throw new BotError(ErrorCode.InvalidInput, `At most ${promptLimits.count} prompts (you gave ${prompts.length}); separate them with |.`);
  const long = prompts.find((p) => p.length > promptLimits.maxLength);
  if (long) throw new BotError(ErrorCode.InvalidInput, `A prompt can be at most ${promptLimits.maxLength} characters; "${clip(long, 40)}" has ${long.length}.`);
  return prompts;
}

const listed = (prompts: readonly string[]) => prompts.map((p, i) => `${i + 1}. ${p}`).join('\n');

export const answerHandlers = {
  feedback: async ({ deps, tenant }) => {
    const r = await deps.answers.report(tenant, { latest: 5 });
    const lines = [`Feedback on answers — today: ${counts(r.today)}; this month: ${counts(r.month)}.`];
    if (r.latestNegative.length === 0) lines.push('No answer was marked not helpful yet.');
    else lines.push('Latest answers marked not helpful:', ...r.latestNegative.map(negativeLine));
    return { text: lines.join('\n') };
  },

  'prompts.set': async ({ deps, tenant, actor }, { prompts }) => {
    const list = parsePrompts(prompts);
    await deps.tenants.setSuggestedPrompts(tenant, list);
    await deps.audit.record(tenant, actor, 'prompts.set', { prompts: list });
    return { text: `New assistant threads will suggest:\n${listed(list)}` };
  },

  'prompts.clear': async ({ deps, tenant, actor }) => {
    await deps.tenants.setSuggestedPrompts(tenant, null);
    await deps.audit.record(tenant, actor, 'prompts.clear', {});
    return { text: `Back to the built-in suggested prompts:\n${listed(defaultSuggestedPrompts)}` };
  },

  'prompts.list': async ({ tenant }) => {
    const own = tenant.suggestedPrompts;
    return { text: own ? `Suggested prompts:\n${listed(own)}` : `Suggested prompts (the built-in ones):\n${listed(defaultSuggestedPrompts)}` };
  },
} satisfies Partial<HandlerTable>;
