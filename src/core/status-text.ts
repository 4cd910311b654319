/**
 * What the bot's status says while it works on an answer, one wording on every platform (a sink
 * may fit it to its surface: Slack shows "<bot> is thinking…").
 */
import { aboutSeconds, budgetUsed, type WaitInfo } from '../ports/admission.js';
import type { Vocabulary } from '../ports/errors.js';

export const STATUS = {
  /** Waiting for a backend slot; `ahead`: questions before this one, when known. */
  waiting: (ahead?: number) => (ahead === undefined || ahead <= 0 ? 'Waiting for a free slot…' : `Waiting for a free slot, ${ahead} ahead…`),
  /** Waiting for the tenant's per-minute budget to refill. */
  rateLimited: (workspace: string, perMinute: number, inMs: number) => `${budgetUsed(workspace, perMinute)} Answering in ${aboutSeconds(inMs)}…`,
  thinking: 'Thinking…',
} as const;

/** The status for why a question waits, in the platform's words. */
export const waitStatus = (wait: WaitInfo, words: Vocabulary): string =>
  wait.kind === 'slot' ? STATUS.waiting(wait.ahead) : STATUS.rateLimited(words.workspace, wait.perMinute, wait.inMs);
