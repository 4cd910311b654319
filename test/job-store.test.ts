/**
 * The answer-job table on the real database: a delivery is accepted once, a retry of a job whose
 * runner died takes it over, expired leases are claimed by exactly one instance, writes need the
 * lease, and one tenant's job is never touched through another's.
 */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StopWatch } from '../src/core/jobs/stop-watch.js';
import { createLogger } from '../src/logger.js';
import { AnswerStopped } from '../src/ports/engine.js';
import { answerJobs } from '../src/db/schema.js';
import { PostgresJobStore } from '../src/delivery/job-store.js';
import type { NewDelivery } from '../src/ports/jobs.js';
import type { Tenant } from '../src/ports/tenancy.js';
import { TokenSealer } from '../src/security/sealing.js';
import { TenantRegistry } from '../src/tenancy/registry.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

let tdb: TestDatabase;
let store: PostgresJobStore;
let acme: Tenant;
let globex: Tenant;
let seq = 0;

const delivery = (o: Partial<NewDelivery> = {}): NewDelivery => ({
  platform: 'slack',
  tenantExternalId: 'TACME',
  eventId: `Ev${++seq}`,
  channelId: 'C1',
  threadId: `${seq}.0`,
  userId: 'U1',
  text: 'hello',
  delivery: { ts: '1.1' },
  mergeable: true,
  ...o,
});

/** Makes a job's lease run out now, as if its runner had died. */
const expire = (id: string) => tdb.database.db.update(answerJobs).set({ leaseExpiresAt: new Date(Date.now() - 1000) }).where(eq(answerJobs.id, id));

beforeAll(async () => {
  tdb = await createTestDatabase();
  store = new PostgresJobStore(tdb.database.db, new TokenSealer(randomBytes(32)));
  const tenants = new TenantRegistry(tdb.database.db);
  acme = await tenants.install('slack', 'TACME');
  globex = await tenants.install('slack', 'TGLOBEX');
});

afterAll(async () => {
  await tdb?.drop();
});

describe('answer jobs', () => {
  it('accepts a delivery once; a retry while its runner lives is a duplicate', async () => {
    const d = delivery();
    const first = await store.accept(acme, d, 'instance-a', 30_000);
    expect(first.kind).toBe('accepted');
    if (first.kind !== 'accepted') return;
    expect(first.job).toMatchObject({ tenantId: acme.tenantId, state: 'received', attempts: 1, threadId: '1.0', text: 'hello', delivery: { ts: '1.1' } });
    expect((await store.accept(acme, d, 'instance-b', 30_000)).kind).toBe('duplicate');
  });

  it('a retried delivery of an unfinished job whose lease ran out takes the job over', async () => {
    const d = delivery();
    const first = await store.accept(acme, d, 'instance-a', 30_000);
    if (first.kind !== 'accepted') throw new Error('not accepted');
    await expire(first.job.id);
    const retry = await store.accept(acme, d, 'instance-b', 30_000);
    expect(retry.kind).toBe('resumed');
    if (retry.kind !== 'resumed') return;
    expect(retry.job.id).toBe(first.job.id);
    expect(retry.job.attempts).toBe(2);
    // The old runner lost its lease: its writes no longer land.
    expect(await store.renew(first.job, 'instance-a', 30_000)).toBe(false);
    expect(await store.renew(first.job, 'instance-b', 30_000)).toBe(true);
  });

  it('a retry of a finished job stays a duplicate', async () => {
    const d = delivery();
    const r = await store.accept(acme, d, 'instance-a', 30_000);
    if (r.kind !== 'accepted') throw new Error('not accepted');
    await store.finish(r.job, 'instance-a', 'answered');
    await expire(r.job.id);
    expect((await store.accept(acme, d, 'instance-b', 30_000)).kind).toBe('duplicate');
  });

  it('hands each expired job to exactly one of several instances claiming at once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await store.accept(i % 2 ? acme : globex, delivery({ tenantExternalId: i % 2 ? 'TACME' : 'TGLOBEX' }), 'dead', 30_000);
      if (r.kind === 'accepted') ids.push(r.job.id);
    }
    for (const id of ids) await expire(id);
    const claims = await Promise.all(['i1', 'i2', 'i3', 'i4'].map((owner) => store.claimExpired(owner, 30_000, 5, ['slack'])));
    const claimed = claims.flat().map((j) => j.id).filter((id) => ids.includes(id));
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(new Set(claimed)).toEqual(new Set(ids));
    expect(await store.claimExpired('i5', 30_000, 50, ['slack'])).toEqual([]);
  });

  it('claims waiting jobs one tenant at a time, so one workspace\'s backlog does not hold up another\'s question', async () => {
    await store.claimExpired('drain', 30_000, 500, ['slack']);
    const backlog: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await store.accept(acme, delivery(), 'nobody', 0);
      if (r.kind === 'accepted') backlog.push(r.job.id);
    }
    const single = await store.accept(globex, delivery({ tenantExternalId: 'TGLOBEX' }), 'nobody', 0);
    if (single.kind !== 'accepted') throw new Error('not accepted');
    await new Promise((r) => setTimeout(r, 5));
    const firstTwo = await store.claimExpired('runner', 30_000, 2, ['slack']);
    expect(firstTwo.map((j) => j.id).sort()).toEqual([backlog[0], single.job.id].sort());
    expect((await store.claimExpired('runner', 30_000, 10, ['slack'])).map((j) => j.id)).toEqual(backlog.slice(1));
  });

  it('runs one answer at a time per conversation, and hands the waiting messages to the next turn', async () => {
    const thread = { channelId: 'CT', threadId: 'T-turns' };
    const first = await store.accept(acme, delivery({ ...thread, text: 'one' }), 'a', 30_000);
    const second = await store.accept(acme, delivery({ ...thread, text: 'two' }), 'b', 30_000);
    const third = await store.accept(acme, delivery({ ...thread, text: 'three' }), 'nobody', 0);
    const command = await store.accept(acme, delivery({ ...thread, text: '/llm usage', mergeable: false }), 'nobody', 0);
    if (first.kind !== 'accepted' || second.kind !== 'accepted' || third.kind !== 'accepted' || command.kind !== 'accepted') throw new Error('not accepted');
    // The newer job may not start while the older one holds the conversation; it gives its lease up.
    expect(await store.startTurn(second.job, 'b', 30_000)).toEqual({ kind: 'wait' });
    const turn = await store.startTurn(first.job, 'a', 30_000);
    expect(turn.kind).toBe('run');
    if (turn.kind !== 'run') return;
    expect(turn.job.state).toBe('waiting');
    expect(turn.joinable.map((j) => j.text)).toEqual(['two', 'three']);
    // While it runs, nothing else of the conversation is claimed.
    expect((await store.claimExpired('c', 30_000, 50, ['slack'])).filter((j) => j.threadId === 'T-turns')).toEqual([]);
    await store.finish(turn.job, 'a', 'answered');
    // Next turn: the oldest waiting message, with the later ones to answer together.
    const claimed = (await store.claimExpired('c', 30_000, 50, ['slack'])).filter((j) => j.threadId === 'T-turns');
    expect(claimed.map((j) => j.text)).toEqual(['two']);
    const next = await store.startTurn(claimed[0]!, 'c', 30_000);
    if (next.kind !== 'run') throw new Error('should run');
    expect(next.joinable.map((j) => j.text)).toEqual(['three']);
    await store.join(next.job, 'c', next.joinable, 'two\n\nthree');
    const rows = await tdb.database.db.select().from(answerJobs).where(eq(answerJobs.threadId, 'T-turns'));
    const byText = Object.fromEntries(rows.map((r) => [r.eventId, r]));
    expect(byText[third.job.eventId]).toMatchObject({ state: 'answered', outcomeCode: 'merged' });
    expect(byText[second.job.eventId]).toMatchObject({ text: 'two\n\nthree', state: 'waiting' });
    // A command is never answered with others: it waits for its own turn.
    expect(byText[command.job.eventId]).toMatchObject({ state: 'received', finishedAt: null });
  });

  it('never joins another tenant\'s job into a turn', async () => {
    const own = await store.accept(acme, delivery({ channelId: 'CJ', threadId: 'T-join' }), 'a', 30_000);
    const foreign = await store.accept(globex, delivery({ tenantExternalId: 'TGLOBEX', channelId: 'CJ', threadId: 'T-join' }), 'nobody', 0);
    if (own.kind !== 'accepted' || foreign.kind !== 'accepted') throw new Error('not accepted');
    const turn = await store.startTurn(own.job, 'a', 30_000);
    if (turn.kind !== 'run') throw new Error('should run');
    expect(turn.joinable).toEqual([]);
    await store.join(turn.job, 'a', [foreign.job], 'stolen');
    const [row] = await tdb.database.db.select().from(answerJobs).where(eq(answerJobs.id, foreign.job.id));
    expect(row).toMatchObject({ state: 'received', finishedAt: null });
  });

  it('keeps credentials sealed at rest and gives them back to the runner', async () => {
    const r = await store.accept(acme, delivery({ platform: 'discord', secrets: { interactionToken: 'aW50ZXJhY3Rpb24tdG9rZW4' } }), 'instance-a', 30_000);
    if (r.kind !== 'accepted') throw new Error('not accepted');
    expect(r.job.secrets).toEqual({ interactionToken: 'aW50ZXJhY3Rpb24tdG9rZW4' });
    const [row] = await tdb.database.db.select().from(answerJobs).where(eq(answerJobs.id, r.job.id));
    expect(row!.secrets).not.toContain('aW50ZXJhY3Rpb24tdG9rZW4');
    await store.finish(r.job, 'instance-a', 'answered');
    const [done] = await tdb.database.db.select().from(answerJobs).where(eq(answerJobs.id, r.job.id));
    expect(done!.secrets).toBeNull();
  });

  it('never writes one tenant\'s job through another tenant\'s reference', async () => {
    const r = await store.accept(acme, delivery(), 'instance-a', 30_000);
    if (r.kind !== 'accepted') throw new Error('not accepted');
    const forged = { id: r.job.id, tenantId: globex.tenantId };
    expect(await store.renew(forged, 'instance-a', 30_000, { state: 'answering' })).toBe(false);
    await store.record(forged, 'instance-a', { reply: [{ ts: 'x' }] });
    await store.finish(forged, 'instance-a', 'failed');
    const [row] = await tdb.database.db.select().from(answerJobs).where(eq(answerJobs.id, r.job.id));
    expect(row).toMatchObject({ state: 'received', reply: [], finishedAt: null });
  });

  it('releases a job unfinished so another instance can claim it at once, keeping what it recorded', async () => {
    const r = await store.accept(acme, delivery(), 'instance-a', 30_000);
    if (r.kind !== 'accepted') throw new Error('not accepted');
    await store.record(r.job, 'instance-a', { questionId: 42, reply: [{ ts: '9.9' }], state: 'answering', progressTokens: 17 });
    await store.release(r.job, 'instance-a');
    const claimed = (await store.claimExpired('instance-b', 30_000, 50, ['slack'])).find((j) => j.id === r.job.id);
    expect(claimed).toMatchObject({ state: 'received', questionId: 42, reply: [{ ts: '9.9' }], progressTokens: 17, attempts: 2 });
  });

  it('a stop pressed on another instance reaches the running answer through its row, and only through its own tenant', async () => {
    const first = await store.accept(acme, delivery({ userId: 'UASKER' }), 'instance-a', 30_000);
    if (first.kind !== 'accepted') throw new Error('not accepted');
    const job = first.job;
    // Instance A runs it and watches for stops; the click lands on instance B, which only writes the row.
    const controller = new AbortController();
    const watch = new StopWatch(store, 'instance-a', createLogger('silent'), 20);
    watch.watch(job.id, controller);
    try {
      expect(await store.requestStop(globex, job.id, 'UINTRUDER')).toBe(false);
      expect(await store.stopRequests('instance-a', [job.id])).toEqual([]);
      expect((await store.find(globex, job.id))).toBeNull();
      expect((await store.activeIn(globex, job.channelId, job.threadId))).toBeNull();
      expect((await store.activeIn(acme, job.channelId, job.threadId))?.id).toBe(job.id);

      expect(await store.requestStop(acme, job.id, 'UASKER')).toBe(true);
      await vi.waitFor(() => expect(controller.signal.aborted).toBe(true), { timeout: 5_000, interval: 10 });
      expect(controller.signal.reason).toBeInstanceOf(AnswerStopped);
      expect((controller.signal.reason as AnswerStopped).by).toBe('UASKER');
      // Another instance's stop requests are not this one's to read; the first stopper is kept.
      expect(await store.stopRequests('instance-b', [job.id])).toEqual([]);
      expect(await store.requestStop(acme, job.id, 'USECOND')).toBe(true);
      expect((await store.find(acme, job.id))?.stopRequestedBy).toBe('UASKER');
      await store.finish(job, 'instance-a', 'answered');
      expect(await store.requestStop(acme, job.id, 'UASKER')).toBe(false);
      expect(await store.find(acme, 'not-a-uuid')).toBeNull();
    } finally {
      watch.close();
    }
  });

  it('prunes finished jobs past the dedupe window, and only those', async () => {
    const done = await store.accept(acme, delivery(), 'instance-a', 30_000);
    const open = await store.accept(acme, delivery(), 'instance-a', 30_000);
    if (done.kind !== 'accepted' || open.kind !== 'accepted') throw new Error('not accepted');
    await store.finish(done.job, 'instance-a', 'answered');
    await tdb.database.db.update(answerJobs).set({ finishedAt: new Date(Date.now() - 2 * 86_400_000) }).where(eq(answerJobs.id, done.job.id));
    expect(await store.prune(86_400_000)).toBeGreaterThanOrEqual(1);
    const left = await tdb.database.db.select({ id: answerJobs.id }).from(answerJobs);
    expect(left.map((x) => x.id)).toContain(open.job.id);
    expect(left.map((x) => x.id)).not.toContain(done.job.id);
  });
});
