/** Answers and their feedback on Postgres; every query filters by the tenant. */
import { and, desc, eq, gte, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { answerFeedback, answers, messages } from '../db/schema.js';
import type { AnswerBook, AnswerRecord, FeedbackCounts, FeedbackReport, FeedbackValue, NegativeFeedback } from '../ports/stores.js';
import type { TenantScope } from '../ports/tenancy.js';

const isUuid = (v: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);

export class PostgresAnswerBook implements AnswerBook {
  constructor(private readonly db: Db) {}

  async record(scope: TenantScope, a: AnswerRecord): Promise<void> {
    const values = {
      id: a.id,
      tenantId: scope.tenantId,
      channelId: a.channelId,
      threadId: a.threadId ?? '',
      askerId: a.askerId,
      questionMessageId: a.questionMessageId,
      answerMessageId: a.answerMessageId,
      persona: a.persona,
      sources: a.sources,
      stopped: a.stopped,
    };
    // A resumed answer records again under the same id: the last attempt's is the one shown.
    await this.db
      .insert(answers)
      .values(values)
      .onConflictDoUpdate({ target: answers.id, set: values, setWhere: eq(answers.tenantId, scope.tenantId) });
  }

  async get(scope: TenantScope, answerId: string): Promise<AnswerRecord | null> {
    if (!isUuid(answerId)) return null;
    const [r] = await this.db
      .select()
      .from(answers)
      .where(and(eq(answers.tenantId, scope.tenantId), eq(answers.id, answerId)));
    return r
      ? {
          id: r.id,
          channelId: r.channelId,
          threadId: r.threadId === '' ? null : r.threadId,
          askerId: r.askerId,
          questionMessageId: r.questionMessageId,
          answerMessageId: r.answerMessageId,
          persona: r.persona,
          sources: r.sources,
          stopped: r.stopped,
        }
      : null;
  }

  async vote(scope: TenantScope, answerId: string, userId: string, value: FeedbackValue): Promise<boolean> {
    if (!(await this.get(scope, answerId))) return false;
    await this.db
      .insert(answerFeedback)
      .values({ tenantId: scope.tenantId, answerId, userId, value })
      .onConflictDoUpdate({
        target: [answerFeedback.answerId, answerFeedback.userId],
        set: { value, updatedAt: new Date() },
        setWhere: eq(answerFeedback.tenantId, scope.tenantId),
      });
    return true;
  }

  async counts(scope: TenantScope, since: Date): Promise<FeedbackCounts> {
    const rows = await this.db
      .select({ value: answerFeedback.value, n: sql<number>`count(*)::int` })
      .from(answerFeedback)
      .where(and(eq(answerFeedback.tenantId, scope.tenantId), gte(answerFeedback.updatedAt, since)))
      .groupBy(answerFeedback.value);
    const of = (v: FeedbackValue) => Number(rows.find((r) => r.value === v)?.n ?? 0);
    return { positive: of('positive'), negative: of('negative') };
  }

  async latestNegative(scope: TenantScope, limit: number): Promise<NegativeFeedback[]> {
    const q = sql`(select ${messages.content} from ${messages} where ${messages.tenantId} = ${scope.tenantId} and ${messages.id} = ${answers.questionMessageId})`;
    const a = sql`(select ${messages.content} from ${messages} where ${messages.tenantId} = ${scope.tenantId} and ${messages.id} = ${answers.answerMessageId})`;
    const rows = await this.db
      .select({
        answerId: answers.id,
        at: answerFeedback.updatedAt,
        by: answerFeedback.userId,
        channelId: answers.channelId,
        persona: answers.persona,
        sources: answers.sources,
        question: sql<string | null>`${q}`,
        answer: sql<string | null>`${a}`,
      })
      .from(answerFeedback)
      .innerJoin(answers, and(eq(answers.id, answerFeedback.answerId), eq(answers.tenantId, answerFeedback.tenantId)))
      .where(and(eq(answerFeedback.tenantId, scope.tenantId), eq(answerFeedback.value, 'negative')))
      .orderBy(desc(answerFeedback.updatedAt))
      .limit(limit);
    return rows;
  }

  async report(scope: TenantScope, options: { now?: Date; latest?: number } = {}): Promise<FeedbackReport> {
    const now = options.now ?? new Date();
    const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const [today, thisMonth, latestNegative] = await Promise.all([
      this.counts(scope, day),
      this.counts(scope, month),
      this.latestNegative(scope, options.latest ?? 5),
    ]);
    return { today, month: thisMonth, latestNegative };
  }
}
