/**
 * "Acked means answered": every accepted delivery becomes an answer job before the platform gets
 * its ack, and this class sees each one through to an answer or a clear refusal.
 * - accept(): the durable accept an adapter awaits before acking (a failure means: do not ack);
 *   the job is leased to this instance and run at once, in process (no claim latency).
 * - While a job runs its lease is renewed with its progress (state, tokens generated so far).
 * - A lease that runs out (this or another instance died) is claimed by a sweep on any instance:
 *   a job younger than RESUME_MAX_AGE_S is answered again, finishing the reply it had begun;
 *   an older one is closed with a short "I was restarted; please ask again".
 * - drain(): no new runs; running answers get the grace period, the rest hand their lease back.
 */
import type { Logger } from '../../logger.js';
import { AnswerInterrupted, AnswerStopped, type MessageHandler } from '../../ports/engine.js';
import type { AcceptOutcome, AnswerIntake, AnswerJob, DeliveryRestorer, FinalJobState, JobState, JobStore, NewDelivery } from '../../ports/jobs.js';
import type { ConversationStore, TenantDirectory, UsageLedger } from '../../ports/stores.js';
import type { Platform, TenantScope } from '../../ports/tenancy.js';
import { expire, meterLostAttempt } from './resumption.js';
import { cleanDelivery } from './clean-delivery.js';
import { persistently } from '../persistently.js';
import { finalState, questionOf } from './job-rules.js';
import { StopWatch } from './stop-watch.js';

export interface AnswerJobsOptions {
  /** This instance's lease owner name (unique per process). */
  instanceId: string;
  /** A lease not renewed for this long is someone else's to take. @defaultValue 30000 */
  leaseMs?: number;
  /** @defaultValue leaseMs / 3 */
  renewMs?: number;
  /** How often orphaned jobs are looked for. @defaultValue 5000 */
  sweepMs?: number;
  /** An interrupted job older than this (seconds since it was accepted) gets a notice instead of an answer. */
  resumeMaxAgeS: number;
  /** Longest question kept; anything past it is cut before the job is stored (the engine refuses it). */
  maxQuestionChars: number;
  /** Finished jobs are kept this long for dedupe of late retries. @defaultValue 24 h */
  keepFinishedMs?: number;
  /** Answers this instance runs at once (waiting for a slot included); more wait in the database. @defaultValue 500 */
  maxRunning?: number;
  /**
   * Says when accepts are too slow to take on more answers (acks come first); it hears each
   * accept's duration. Without it every accepted answer starts at once (while there is room).
   */
  pressure?: { record(ms: number): void; congested(): boolean; accepting(): boolean };
}

export interface AnswerJobsDeps {
  store: JobStore;
  tenants: TenantDirectory;
  handler: MessageHandler;
  memory: ConversationStore;
  usage: UsageLedger;
  logger: Logger;
  options: AnswerJobsOptions;
}

export { RESTARTED_TEXT } from './resumption.js';

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

/** How a job ended on this instance: a final state, or handed back unfinished. */
export type JobSettlement = FinalJobState | 'released' | 'lost';
/** How one run on this instance ended: settled, or back to waiting for its conversation's turn. */
type RunEnd = JobSettlement | 'waiting';

export class AnswerJobs implements AnswerIntake {
  private readonly restorers = new Map<Platform, DeliveryRestorer>();
  private readonly running = new Map<string, Running>();
  private readonly observers: ((job: AnswerJob, how: JobSettlement) => void)[] = [];
  private readonly leaseMs: number;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private draining = false;
  private lastPrune = 0;
  /** Jobs were left waiting in the database for room on this instance: claim them as room frees. */
  private backlog = false;
  private pumpTimer: NodeJS.Timeout | null = null;
  private readonly maxRunning: number;
  private readonly stops: StopWatch;

  constructor(private readonly deps: AnswerJobsDeps) {
    this.leaseMs = deps.options.leaseMs ?? 30_000;
    this.maxRunning = deps.options.maxRunning ?? 500;
    this.stops = new StopWatch(deps.store, deps.options.instanceId, deps.logger);
  }

  /**
   * Stops an unfinished answer: at once when it runs here, else through its row (the instance
   * running it looks every half second; one still waiting stops when it starts). False when it
   * has already finished. Who may stop it is the caller's check.
   */
  async requestStop(scope: TenantScope, jobId: string, by: string): Promise<boolean> {
    const marked = await this.deps.store.requestStop(scope, jobId, by);
    if (marked) this.stops.stopHere(jobId, by);
    return marked;
  }

  /** An adapter registers how to rebuild its platform's messages and replies. */
  register(platform: Platform, restorer: DeliveryRestorer): void {
    this.restorers.set(platform, restorer);
  }

  /** Durable accept. Resolves once the job is stored (ack then); rejects when it could not be (do not ack). */
  async accept(delivery: NewDelivery): Promise<AcceptOutcome> {
    const began = performance.now();
    const d = cleanDelivery(delivery, this.deps.options.maxQuestionChars);
    const tenant = await this.deps.tenants.resolve(d.platform, d.tenantExternalId);
    if (!tenant) return 'no_tenant';
    // With room, the job is leased to this instance and runs at once. Without (draining, full,
    // or the loop too busy to keep acks fast) it is stored with a lease that has already run
    // out: this instance claims it as room frees, or another instance (or the next start) does.
    const now = this.hasRoom();
    const result = await this.deps.store.accept(tenant, d, this.deps.options.instanceId, now ? this.leaseMs : 0);
    this.deps.options.pressure?.record(performance.now() - began);
    if (result.kind === 'duplicate') return 'duplicate';
    if (now) this.launch(result.job);
    else this.queued();
    return 'accepted';
  }

  private hasRoom(): boolean {
    return !this.draining && this.running.size < this.maxRunning && !this.deps.options.pressure?.congested();
  }

  /** Remembers that jobs wait in the database, and claims them soon (one claim per pause, not one per event). */
  private queued(delayMs = 100): void {
    this.backlog = true;
    if (this.pumpTimer || this.draining) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = null;
      void this.sweep();
    }, delayMs);
    this.pumpTimer.unref();
  }

  /** Starts the sweep for orphaned jobs (and runs one now: jobs this instance left before a restart). */
  start(): void {
    if (this.sweepTimer || this.draining) return;
    const every = this.deps.options.sweepMs ?? 5_000;
    this.sweepTimer = setInterval(() => void this.sweep(), every);
    this.sweepTimer.unref();
    void this.sweep();
  }

  /** Hears every job this instance settles (tests and benchmarks wait on it). */
  onSettled(observer: (job: AnswerJob, how: JobSettlement) => void): void {
    this.observers.push(observer);
  }

  /** Jobs running on this instance now. */
  get active(): number {
    return this.running.size;
  }

  /**
   * Shutdown: no new runs or claims; running answers get `graceMs` to finish, then the rest are
   * interrupted and hand their lease back with what they recorded. Resolves when all are settled.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    await this.sweeping;
    // From here on a stop request is read by whoever resumes the job.
    const all = () => Promise.allSettled([...this.running.values()].map((r) => r.done));
    await Promise.race([all(), new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const r of this.running.values()) r.controller.abort(new AnswerInterrupted('shutdown'));
    await all();
  }

  /** Claims orphaned jobs of the platforms this instance serves, and runs or closes them. */
  sweep(): Promise<void> {
    this.sweeping ??= this.claimOrphans().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async claimOrphans(): Promise<void> {
    const { store, logger } = this.deps;
    try {
      if (this.draining) return;
      // Under pressure nothing new starts, unless nothing runs at all (progress is never lost);
      // while deliveries keep arriving, waiting answers start a few at a time.
      const pressure = this.deps.options.pressure;
      const pressed = pressure?.congested() && this.running.size > 0;
      const batch = pressure?.accepting() ? 5 : 50;
      const room = pressed ? 0 : Math.min(batch, this.maxRunning - this.running.size);
      if (room <= 0) {
        // Still no room: look again shortly.
        if (this.backlog) this.queued();
        return;
      }
      const platforms = [...this.restorers.keys()];
      const jobs = await store.claimExpired(this.deps.options.instanceId, this.leaseMs, room, platforms);
      // A full batch means there may be more waiting.
      this.backlog = jobs.length === room;
      for (const job of jobs) {
        const begun = job.questionId !== null || job.reply.length > 0 || job.progressTokens > 0;
        if (begun) logger.info({ jobId: job.id, tenantId: job.tenantId, platform: job.platform, attempt: job.attempts, state: job.state }, 'resuming an interrupted answer');
        else logger.debug({ jobId: job.id, tenantId: job.tenantId }, 'running a waiting answer');
        this.launch(job);
      }
      if (this.backlog) this.queued();
      const keep = this.deps.options.keepFinishedMs ?? 24 * 60 * 60_000;
      if (Date.now() - this.lastPrune > 10 * 60_000) {
        this.lastPrune = Date.now();
        await store.prune(keep);
      }
    } catch (err) {
      // A database blip: the next sweep tries again.
      logger.warn({ err }, 'answer job sweep failed');
    }
  }

  private launch(job: AnswerJob): void {
    if (this.running.has(job.id)) return;
    const controller = new AbortController();
    const done = this.run(job, controller).then(
      (how) => this.settled(job, how),
      () => this.settled(job, 'failed'),
    );
    this.running.set(job.id, { controller, done });
    this.stops.watch(job.id, controller);
  }

  private notify(job: AnswerJob, how: JobSettlement): void {
    for (const observe of this.observers) {
      try {
        observe(job, how);
      } catch {
        // An observer's failure is its own.
      }
    }
  }

  private settled(job: AnswerJob, how: RunEnd): void {
    this.running.delete(job.id);
    this.stops.unwatch(job.id);
    // Room freed, or a conversation's turn passed: take the next waiting jobs soon (claims are
    // batched, not one per finished job).
    if (how === 'waiting') {
      this.queued();
      return;
    }
    if (this.backlog || job.mergeable) this.queued(20);
    this.notify(job, how);
  }

  private async run(job: AnswerJob, controller: AbortController): Promise<RunEnd> {
    const { store, logger, options } = this.deps;
    const me = options.instanceId;
    let state: JobState = job.state;
    let tokens = 0;
    const renew = setInterval(() => {
      store
        .renew(job, me, this.leaseMs, { state, progressTokens: tokens })
        .then((kept) => {
          if (!kept) controller.abort(new AnswerInterrupted('lease_lost'));
        })
        // The database is away: keep answering; the final write will tell.
        .catch((err: unknown) => logger.warn({ err, jobId: job.id }, 'answer job lease renewal failed'));
    }, options.renewMs ?? Math.floor(this.leaseMs / 3));
    try {
      const restorer = this.restorers.get(job.platform);
      if (!restorer) throw new Error(`no ${job.platform} adapter on this instance`);
      // One answer at a time per conversation: a message that arrives while the bot answers in
      // its thread waits, and is answered next with that answer in the history.
      const turn = await store.startTurn(job, me, this.leaseMs);
      if (turn.kind === 'wait') return 'waiting';
      job = await this.joinWaiting(turn.job, turn.joinable);
      state = job.state;
      if (job.attempts > 1) {
        await meterLostAttempt(this.deps, job);
        if (Date.now() - job.createdAt.getTime() > options.resumeMaxAgeS * 1000) {
          await expire(this.deps, job, restorer);
          return 'expired';
        }
      }
      const { msg, sink } = await restorer.restore(job, (refs) => {
        store.record(job, me, { reply: refs }).catch((err: unknown) => logger.warn({ err, jobId: job.id }, 'could not record reply references'));
      });
      // Stopped while it waited its turn: it starts stopped (and says so).
      if (job.stopRequestedBy !== null && !controller.signal.aborted) controller.abort(new AnswerStopped(job.stopRequestedBy));
      const signal = msg.signal ? AbortSignal.any([msg.signal, controller.signal]) : controller.signal;
      const outcome = await this.deps.handler.handle({ ...msg, signal }, sink, {
        answerId: job.id,
        ...(job.questionId !== null ? { questionId: job.questionId } : {}),
        questionStored: (id) => void store.record(job, me, { questionId: id }).catch(() => undefined),
        waiting: () => void (state = 'waiting'),
        answering: () => void (state = 'answering'),
        tokens: (n) => void (tokens = n),
      });
      const final = finalState(outcome);
      // Through a database blip: an unfinished job would be answered a second time.
      await persistently(() => store.finish(job, me, final, outcome.code), { logger, what: 'answer job state' });
      return final;
    } catch (err) {
      const reason = controller.signal.reason ?? err;
      if (reason instanceof AnswerInterrupted) {
        if (reason.why === 'shutdown') {
          await store.record(job, me, { progressTokens: tokens, state });
          await store.release(job, me);
          logger.info({ jobId: job.id, tokens }, 'answer handed back for another instance to finish');
          return 'released';
        }
        return 'lost';
      }
      logger.error({ err, jobId: job.id, tenantId: job.tenantId }, 'answer job failed');
      await store.finish(job, me, 'failed', 'internal').catch(() => undefined);
      return 'failed';
    } finally {
      clearInterval(renew);
    }
  }

  /**
   * Questions that arrived in the conversation while it waited are answered together with this
   * one, as one turn (in order, one paragraph each). Commands are never joined: they run on their own.
   */
  private async joinWaiting(carrier: AnswerJob, waiting: AnswerJob[]): Promise<AnswerJob> {
    const carrierQuestion = questionOf(carrier.text);
    if (carrierQuestion === null) return carrier;
    const joined = waiting.map((j) => ({ job: j, question: questionOf(j.text) })).filter((x) => x.question !== null);
    if (joined.length === 0) return carrier;
    const text = [carrierQuestion, ...joined.map((x) => x.question!)].join('\n\n');
    await this.deps.store.join(carrier, this.deps.options.instanceId, joined.map((x) => x.job), text);
    this.deps.logger.info({ jobId: carrier.id, joined: joined.length }, 'answering messages that arrived meanwhile together');
    for (const x of joined) this.notify(x.job, 'answered');
    return { ...carrier, text };
  }
}
