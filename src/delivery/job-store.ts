/**
 * The JobStore on Postgres (the `answer_jobs` table). Leases use the database's clock, so
 * instances with skewed clocks still agree on whose lease ran out. Claims take rows with
 * `FOR UPDATE SKIP LOCKED`: two instances looking for orphaned jobs at once never take the same.
 *
 * Every write of one job filters by its tenant and id (and the lease owner); only the scheduling
 * queries — claiming expired leases, pruning finished rows, and looking up stop requests for the
 * jobs an instance holds — span tenants, and they read or delete nothing but scheduling columns.
 */
import { and, eq, getTableColumns, inArray, isNotNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { answerJobs } from '../db/schema.js';
import {
  activeJobStates,
  type AcceptResult,
  type AnswerJob,
  type FinalJobState,
  type JobRef,
  type JobState,
  type TurnStart,
  type JobStore,
  type NewDelivery,
} from '../ports/jobs.js';
import type { Platform, TenantScope } from '../ports/tenancy.js';
import type { TokenSealer } from '../security/sealing.js';
import { jobFromRow, sealSecrets, type Row } from './job-rows.js';

const isUuid = (v: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
const leaseUntil = (ms: number) => sql`now() + ${`${Math.max(1, Math.round(ms))} milliseconds`}::interval`;

export class PostgresJobStore implements JobStore {
  private readonly acceptDb: Db;

  constructor(
    private readonly db: Db,
    /** Seals `secrets`; without one, a delivery that carries secrets is refused. */
    private readonly sealer?: TokenSealer,
    /** Where accepts go: a pool of their own, so an ack never waits behind answers' queries. */
    acceptDb?: Db,
  ) {
    this.acceptDb = acceptDb ?? db;
  }

  async accept(scope: TenantScope, d: NewDelivery, owner: string, leaseMs: number): Promise<AcceptResult> {
    const sealed = this.seal(d);
    const rows = await this.acceptDb
      .insert(answerJobs)
      .values({
        tenantId: scope.tenantId,
        platform: d.platform,
        tenantExternalId: d.tenantExternalId,
        eventId: d.eventId,
        channelId: d.channelId,
        threadId: d.threadId ?? '',
        userId: d.userId,
        text: d.text,
        mergeable: d.mergeable,
        delivery: d.delivery,
        secretsKeyId: sealed?.keyId ?? null,
        secrets: sealed?.ciphertext ?? null,
        attempts: 1,
        leaseOwner: owner,
        leaseExpiresAt: leaseUntil(leaseMs),
      })
      .onConflictDoUpdate({
        target: [answerJobs.platform, answerJobs.eventId],
        // A retry of a delivery whose job is still unfinished and whose runner is gone takes it over.
        set: { leaseOwner: owner, leaseExpiresAt: leaseUntil(leaseMs), attempts: sql`${answerJobs.attempts} + 1`, updatedAt: sql`now()` },
        setWhere: and(
          eq(answerJobs.tenantId, scope.tenantId),
          inArray(answerJobs.state, [...activeJobStates]),
          sql`(${answerJobs.leaseExpiresAt} is null or ${answerJobs.leaseExpiresAt} < now())`,
        ),
      })
      // xmax is 0 for a row this statement inserted, set for one it updated (taken over).
      .returning({ ...getTableColumns(answerJobs), inserted: sql<boolean>`(xmax = 0)` });
    const hit = rows[0];
    if (!hit) return { kind: 'duplicate' };
    const { inserted, ...row } = hit;
    return { kind: inserted ? 'accepted' : 'resumed', job: this.toJob(row) };
  }

  async claimExpired(owner: string, leaseMs: number, limit: number, platforms: readonly Platform[]): Promise<AnswerJob[]> {
    if (platforms.length === 0 || limit < 1) return [];
    // Oldest first, one tenant at a time: each tenant's oldest waiting job before anyone's second,
    // so a workspace with a long backlog does not hold up another's single question.
    const platformList = sql.join(platforms.map((p) => sql`${p}`), sql`, `);
    const states = sql.join(activeJobStates.map((st) => sql`${st}`), sql`, `);
    // The ranking cannot lock rows itself (FOR UPDATE refuses window functions), so it names a
    // few times more candidates than needed, and the lock takes the first free ones in rank order
    // (SKIP LOCKED rows do not count against the LIMIT): claimers running at once share the
    // waiting jobs between them instead of all reaching for the same few.
    const n = Math.floor(limit);
    const due = sql`select j.id from ${answerJobs} j
      join (
        select id, rank, created_at from (
          select id, created_at, row_number() over (partition by tenant_id order by created_at) as rank
          from (
            -- One per conversation, its oldest; none of a conversation whose answer is running.
            select distinct on (w.tenant_id, w.channel_id, w.thread_id) w.id, w.tenant_id, w.created_at
            from ${answerJobs} w
            where w.state in (${states}) and w.platform in (${platformList})
              and (w.lease_expires_at is null or w.lease_expires_at < now())
              and not exists (
                select 1 from ${answerJobs} r
                where r.tenant_id = w.tenant_id and r.channel_id = w.channel_id and r.thread_id = w.thread_id
                  and r.id <> w.id and r.state in ('waiting', 'answering') and r.lease_expires_at > now()
              )
            order by w.tenant_id, w.channel_id, w.thread_id, w.created_at
          ) oldest
        ) waiting
        order by rank, created_at
        limit ${n * 4}
      ) candidates on candidates.id = j.id
      where (j.lease_expires_at is null or j.lease_expires_at < now())
      order by candidates.rank, candidates.created_at
      limit ${n}
      for update of j skip locked`;
    const rows = await this.db
      .update(answerJobs)
      .set({ leaseOwner: owner, leaseExpiresAt: leaseUntil(leaseMs), attempts: sql`${answerJobs.attempts} + 1`, updatedAt: sql`now()` })
      .where(sql`${answerJobs.id} in (${due})`)
      .returning();
    return rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((r) => this.toJob(r));
  }

  async renew(job: JobRef, owner: string, leaseMs: number, progress: { state?: JobState; progressTokens?: number } = {}): Promise<boolean> {
    const rows = await this.db
      .update(answerJobs)
      .set({
        leaseExpiresAt: leaseUntil(leaseMs),
        updatedAt: sql`now()`,
        ...(progress.state ? { state: progress.state } : {}),
        ...(progress.progressTokens !== undefined ? { progressTokens: progress.progressTokens } : {}),
      })
      .where(this.mine(job, owner))
      .returning({ id: answerJobs.id });
    return rows.length === 1;
  }

  async record(job: JobRef, owner: string, change: { questionId?: number; reply?: unknown[]; state?: JobState; progressTokens?: number }): Promise<void> {
    await this.db
      .update(answerJobs)
      .set({ ...change, updatedAt: sql`now()` })
      .where(this.mine(job, owner));
  }

  async startTurn(job: JobRef, owner: string, leaseMs: number): Promise<TurnStart> {
    return this.db.transaction(async (tx) => {
      const [me] = await tx.select().from(answerJobs).where(this.mine(job, owner));
      if (!me) return { kind: 'wait' as const };
      // The conversation's unfinished jobs, locked in one order (oldest first) by every starter,
      // so two starting at once take turns instead of both running.
      const rows = await tx
        .select()
        .from(answerJobs)
        .where(
          and(
            eq(answerJobs.tenantId, me.tenantId),
            eq(answerJobs.channelId, me.channelId),
            eq(answerJobs.threadId, me.threadId),
            inArray(answerJobs.state, [...activeJobStates]),
          ),
        )
        .orderBy(answerJobs.createdAt, answerJobs.id)
        .for('update');
      const live = (r: Row) => r.leaseOwner !== null && r.leaseExpiresAt !== null && r.leaseExpiresAt.getTime() > Date.now();
      const blocked = rows.some(
        (r) => r.id !== me.id && live(r) && (r.state === 'waiting' || r.state === 'answering' || r.createdAt < me.createdAt),
      );
      if (blocked) {
        await tx
          .update(answerJobs)
          .set({ leaseOwner: null, leaseExpiresAt: sql`now()`, updatedAt: sql`now()` })
          .where(this.mine(job, owner));
        return { kind: 'wait' as const };
      }
      const [running] = await tx
        .update(answerJobs)
        .set({ state: me.state === 'answering' ? 'answering' : 'waiting', leaseExpiresAt: leaseUntil(leaseMs), updatedAt: sql`now()` })
        .where(this.mine(job, owner))
        .returning();
      const joinable = rows.filter((r) => r.id !== me.id && !live(r) && r.createdAt >= me.createdAt && r.mergeable && me.mergeable);
      return { kind: 'run' as const, job: this.toJob(running!), joinable: joinable.map((r) => this.toJob(r)) };
    });
  }

  async join(carrier: JobRef, owner: string, joined: JobRef[], text: string): Promise<void> {
    if (joined.length === 0) return;
    await this.db.transaction(async (tx) => {
      const [kept] = await tx.update(answerJobs).set({ text, updatedAt: sql`now()` }).where(this.mine(carrier, owner)).returning({ id: answerJobs.id });
      if (!kept) return;
      // Only jobs still waiting, with no one's lease: a job someone else took stays theirs.
      await tx
        .update(answerJobs)
        .set({ state: 'answered', outcomeCode: 'merged', secrets: null, secretsKeyId: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
        .where(
          and(
            eq(answerJobs.tenantId, carrier.tenantId),
            inArray(answerJobs.id, joined.map((j) => j.id)),
            inArray(answerJobs.state, [...activeJobStates]),
            sql`(${answerJobs.leaseExpiresAt} is null or ${answerJobs.leaseExpiresAt} < now())`,
          ),
        );
    });
  }

  async finish(job: JobRef, owner: string, state: FinalJobState, code?: string): Promise<void> {
    await this.db
      .update(answerJobs)
      .set({
        state,
        outcomeCode: code ?? null,
        leaseOwner: null,
        leaseExpiresAt: null,
        progressTokens: 0,
        // The secrets served the reply; a finished job needs them no more.
        secrets: null,
        secretsKeyId: null,
        finishedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(this.mine(job, owner));
  }

  async release(job: JobRef, owner: string): Promise<void> {
    await this.db
      .update(answerJobs)
      .set({ state: 'received', leaseOwner: null, leaseExpiresAt: sql`now()`, updatedAt: sql`now()` })
      .where(this.mine(job, owner));
  }

  async prune(olderThanMs: number): Promise<number> {
    const rows = await this.db
      .delete(answerJobs)
      .where(and(isNotNull(answerJobs.finishedAt), lt(answerJobs.finishedAt, sql`now() - ${`${Math.round(olderThanMs)} milliseconds`}::interval`)))
      .returning({ id: answerJobs.id });
    return rows.length;
  }

  async find(scope: TenantScope, id: string): Promise<AnswerJob | null> {
    if (!isUuid(id)) return null;
    const [r] = await this.db
      .select()
      .from(answerJobs)
      .where(and(eq(answerJobs.tenantId, scope.tenantId), eq(answerJobs.id, id)));
    return r ? this.toJob(r) : null;
  }

  async activeIn(scope: TenantScope, channelId: string, threadId: string | null): Promise<AnswerJob | null> {
    const [r] = await this.db
      .select()
      .from(answerJobs)
      .where(
        and(
          eq(answerJobs.tenantId, scope.tenantId),
          eq(answerJobs.channelId, channelId),
          eq(answerJobs.threadId, threadId ?? ''),
          inArray(answerJobs.state, [...activeJobStates]),
        ),
      )
      .orderBy(answerJobs.createdAt)
      .limit(1);
    return r ? this.toJob(r) : null;
  }

  async requestStop(scope: TenantScope, id: string, by: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db
      .update(answerJobs)
      .set({ stopRequestedAt: sql`coalesce(${answerJobs.stopRequestedAt}, now())`, stopRequestedBy: sql`coalesce(${answerJobs.stopRequestedBy}, ${by})`, updatedAt: sql`now()` })
      .where(and(eq(answerJobs.tenantId, scope.tenantId), eq(answerJobs.id, id), inArray(answerJobs.state, [...activeJobStates])))
      .returning({ id: answerJobs.id });
    return rows.length > 0;
  }

  async stopRequests(owner: string, ids: readonly string[]): Promise<{ id: string; by: string }[]> {
    if (ids.length === 0) return [];
    // Scoped by the lease: only the jobs this instance runs (their tenants are already known to it).
    const rows = await this.db
      .select({ id: answerJobs.id, by: answerJobs.stopRequestedBy })
      .from(answerJobs)
      .where(and(eq(answerJobs.leaseOwner, owner), inArray(answerJobs.id, [...ids]), isNotNull(answerJobs.stopRequestedAt)));
    return rows.map((r) => ({ id: r.id, by: r.by ?? '' }));
  }

  /** The one place a single job's writes are filtered: its tenant, its id, and the caller's lease. */
  private mine(job: JobRef, owner: string) {
    return and(eq(answerJobs.tenantId, job.tenantId), eq(answerJobs.id, job.id), eq(answerJobs.leaseOwner, owner));
  }

  private seal(d: NewDelivery) {
    return sealSecrets(d, this.sealer);
  }

  private toJob(r: Row): AnswerJob {
    return jobFromRow(r, this.sealer);
  }
}
