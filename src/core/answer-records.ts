/**
 * What an answer leaves behind once it is given (or stopped part-way): its text in the
 * conversation's memory, its tokens metered, and its record for feedback (which answer, which
 * persona and sources, who asked). The writes are kept through a database blip rather than lost.
 */
import type { Logger } from '../logger.js';
import type { AnswerBook, ConversationKey, ConversationStore, QuotaReservation, UsageLedger } from '../ports/stores.js';
import type { TenantScope } from '../ports/tenancy.js';
import type { AnswerMetrics } from './answer-metrics.js';
import { persistently } from './persistently.js';
import type { ReplyStream } from './reply/stream.js';

export interface GivenAnswer {
  /** The answer's id (its job's), when it has buttons that refer to it. */
  answerId?: string;
  askerId: string;
  questionId: number;
  /** What memory keeps (a stopped answer is marked as such). */
  content: string;
  persona: string;
  sources: string[];
  promptTokens: number;
  completionTokens: number;
  stopped: boolean;
  /** The quota reservation this answer held: released as its tokens are metered. */
  reservation?: QuotaReservation;
}

export class AnswerRecords {
  constructor(
    private readonly d: {
      memory: ConversationStore;
      usage: UsageLedger;
      answers?: AnswerBook;
      metrics: AnswerMetrics;
      logger: Logger;
    },
  ) {}

  /**
   * The final reply and the answer's records. The records go first (briefly: a feedback click
   * must find its answer), but a slow database never holds the reply back for long.
   */
  async deliver(scope: TenantScope, key: ConversationKey, reply: ReplyStream, text: string, given: GivenAnswer): Promise<void> {
    const kept = this.keep(scope, key, given);
    await Promise.race([kept, new Promise((r) => setTimeout(r, RECORDS_FIRST_MS).unref())]);
    await reply.finish(text, { kind: 'answer' });
    await kept;
  }

  /** Memory, usage and the answer's record; resolves when all are written (or finally failed, logged). */
  async keep(scope: TenantScope, key: ConversationKey, a: GivenAnswer): Promise<void> {
    const { memory, usage, answers, metrics, logger } = this.d;
    const remembered = persistently(
      () => memory.append(scope, key, { role: 'assistant', userId: null, content: a.content, tokens: a.completionTokens }),
      { logger, what: 'answer memory' },
    );
    const metered = persistently(
      () => usage.record(scope, { requests: 1, promptTokens: a.promptTokens, completionTokens: a.completionTokens, ...(a.reservation ? { release: a.reservation } : {}) }),
      { logger, what: 'usage' },
    );
    const recorded = remembered.then((answerMessageId) =>
      a.answerId && answers
        ? persistently(
            () =>
              answers.record(scope, {
                id: a.answerId!,
                channelId: key.channelId,
                threadId: key.threadId,
                askerId: a.askerId,
                questionMessageId: a.questionId,
                answerMessageId,
                persona: a.persona,
                sources: a.sources,
                stopped: a.stopped,
              }),
            { logger, what: 'answer record' },
          )
        : undefined,
    );
    metrics.tokens.inc({ tenant: scope.tenantId, kind: 'prompt' }, a.promptTokens);
    metrics.tokens.inc({ tenant: scope.tenantId, kind: 'completion' }, a.completionTokens);
    const results = await Promise.allSettled([remembered, metered, recorded]);
    for (const r of results) {
      if (r.status === 'rejected') logger.error({ err: r.reason, tenantId: scope.tenantId }, 'an answer could not be recorded');
    }
  }
}

/** How long the final reply waits for the answer's records (a feedback click must find them). */
const RECORDS_FIRST_MS = 2_000;
