/**
 * Admission: Bottleneck keeps each tenant's hard caps (a Bottleneck Group keyed by tenant id:
 * requests at once, per minute, queued); behind it a FairQueue decides which waiting job gets
 * the next backend slot, token-fair across tenants (see fair-queue.ts). With Redis a shared
 * global Bottleneck limiter also keeps all instances together within the backend slots.
 *
 * A job enters the fair queue only once it holds one of its tenant's `maxConcurrent` slots, so a
 * tenant can never have more than `maxConcurrent` jobs waiting for a backend slot, however many
 * it submits. We chain by hand instead of `limiter.chain()` so a job whose caller already got
 * "busy" (wait time-out) is skipped before it takes a place further on.
 *
 * The wait time-out is ours: Bottleneck's `expiration` measures running time, not waiting time,
 * and it has no API to remove one queued job. A job that waited `queueWaitMs` is marked
 * cancelled and its caller rejected at once; when Bottleneck later reaches it, the wrapper
 * returns without calling the task. So no task runs after its caller was told "busy".
 */
import Bottleneck from 'bottleneck';
import type { Logger } from '../logger.js';
import { noMetrics, type MetricRegistry } from '../metrics.js';
import { AdmissionMetrics } from './admission-metrics.js';
import { buildLimiters, type Limiters } from './bottleneck-limiters.js';
import { FairQueue, serviceOf, type FairGrant } from './fair-queue.js';
import { rateWindow } from './rate-window.js';
import { TenantLimiters } from './tenant-limiters.js';
import { WaitTeller, type JobState, type PendingJob } from './pending-job.js';
import type { TenantScope, TenantLimits } from '../ports/tenancy.js';
import type { SlotCapacity } from '../ports/llm.js';
import { BusyError, type Admission, type AdmissionStats, type AdmittedSlot, type RunOptions, type WaitInfo, type WorkEstimate } from '../ports/admission.js';

export interface BottleneckAdmissionOptions {
  /** Backend slots (OLLAMA_PARALLEL over all backends): jobs running at once over all tenants (and instances with Redis). */
  parallel: number;
  /** The backends' slots that can serve now (a pool's healthy ones); `parallel` when absent. */
  slots?: SlotCapacity;
  /** Jobs waiting in this process over all tenants (QUEUE_MAX) before new ones get "busy". */
  queueMax: number;
  /** Longest wait for a slot (QUEUE_WAIT_MS) before the caller gets "busy". */
  queueWaitMs: number;
  /** Where this limiter registers the metrics it owns (queue depth, queue wait, refusals). */
  metrics?: MetricRegistry;
  logger?: Logger;
  /** REDIS_URL: share concurrency and request budgets with every instance using the same `id`. */
  redis?: { url: string };
  /** Deployment id; prefixes the Redis keys so deployments sharing a Redis stay apart. */
  id?: string;
  /**
   * An idle tenant limiter (and its Redis keys) is dropped after this long. It must exceed
   * queueWaitMs + the longest backend call, or a limiter could be recycled under a running job.
   */
  idleTimeoutMs?: number;
  /** Length of the requests-per-minute window; only tests shorten it. */
  reservoirRefreshIntervalMs?: number;
  /**
   * While a tenant that holds no slot asked within this long, no other tenant takes the last free
   * slot (so its next question does not wait for a long answer to end); 0 = off. Default 5 s.
   */
  headroomMs?: number;
  /** How long close() waits for running tasks before disconnecting. */
  closeTimeoutMs?: number;
}

const SKIPPED = Symbol('skipped');
const DROP_MESSAGE = 'This job has been dropped by Bottleneck';

export class BottleneckAdmission implements Admission {
  private built?: Limiters;
  private readonly tenantLimiters: TenantLimiters;
  private readonly waits: WaitTeller;
  private readonly pending = new Set<PendingJob>();
  private readonly queuedByTenant = new Map<string, number>();
  private readonly fair: FairQueue;
  private readonly unsubscribe?: () => void;
  private readonly refreshMs: number;
  private readonly metrics: AdmissionMetrics;
  private queued = 0;
  private running = 0;
  private seq = 0;
  private closing?: Promise<void>;

  constructor(private readonly opts: BottleneckAdmissionOptions) {
    this.refreshMs = opts.reservoirRefreshIntervalMs ?? 60_000;
    this.metrics = new AdmissionMetrics(opts.metrics ?? noMetrics);
    const slots = opts.slots;
    // With every backend down, questions still go through one at a time: the backend says at once
    // that it cannot be reached, instead of each waiting out QUEUE_WAIT_MS to be told "busy".
    this.fair = new FairQueue(slots ? () => Math.max(1, slots.capacity()) : () => opts.parallel, { headroomMs: opts.headroomMs ?? 5_000 });
    // A backend coming back (or a new one) takes waiting work at once.
    this.unsubscribe = slots?.onCapacityChange(() => this.fair.dispatch());
    this.tenantLimiters = new TenantLimiters(() => this.limiters(), this.refreshMs, opts.logger);
    this.waits = new WaitTeller(this.pending, this.fair, opts.logger);
    const idleTimeoutMs = opts.idleTimeoutMs ?? 15 * 60_000;
    if (idleTimeoutMs <= opts.queueWaitMs) opts.logger?.warn({ idleTimeoutMs }, 'limiter idle timeout is shorter than the queue wait');
  }

  /** Built on first use, so constructing an admission (a tool, a test) never reaches Redis. */
  private limiters(): Limiters {
    this.built ??= buildLimiters(this.opts);
    return this.built;
  }

  run<T>(scope: TenantScope, limits: TenantLimits, task: (slot: AdmittedSlot) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { onStart, signal } = options;
    if (this.closing) return Promise.reject(new Error('admission is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const tenantId = scope.tenantId;
    // A tenant with no concurrency can never start a job: refuse rather than let it time out.
    if (limits.maxConcurrent < 1) return Promise.reject(this.refuse('tenant_queue_full'));
    if (this.queued >= this.opts.queueMax) return Promise.reject(this.refuse('global_queue_full'));
    const { global, globalReady, redis } = this.limiters();
    const limiter = this.tenantLimiters.for(tenantId, limits);
    const ready = Promise.all([globalReady, this.tenantLimiters.ready(limiter)]);
    const estimate = serviceOf(options.work ?? DEFAULT_WORK);

    return new Promise<T>((resolveRun, rejectRun) => {
      // The tenant is active (not idle, for token-fair order) from now until the job is done.
      const depart = this.fair.arrive(tenantId);
      const resolve = (value: T) => (depart(), resolveRun(value));
      const reject = (error: unknown) => (depart(), rejectRun(error));
      const job = this.enqueue(tenantId, reject, options.onWait);
      // A caller that gives up while waiting leaves the queue now; Bottleneck skips the job later.
      signal?.addEventListener('abort', () => this.cancel(job, signal.reason), { once: true });
      const start = async (): Promise<{ value: T | typeof SKIPPED; cost?: number }> => {
        if (job.state !== 'queued') return { value: SKIPPED, cost: 0 };
        const waitedMs = this.markStarted(job);
        let cost: number | undefined;
        try {
          onStart?.(waitedMs);
          const value = await task({ used: (actual: WorkEstimate) => void (cost = serviceOf(actual)) });
          return { value, cost };
        } catch (error) {
          throw new TaskFailure(error, cost);
        } finally {
          job.state = 'finished';
          this.running -= 1;
        }
      };
      const viaFair = () =>
        new Promise<T | typeof SKIPPED>((done, fail) => {
          if (job.state !== 'queued') return done(SKIPPED);
          job.stage = 'global';
          job.leave = () => done(SKIPPED);
          job.ticket = this.fair.enqueue({
            tenantId,
            weight: limits.weight,
            estimate,
            start: (grant: FairGrant) => {
              job.ticket = undefined;
              // With Redis every instance also shares the backend slots through one global limiter.
              const running = redis ? global.schedule({ id: job.id }, start) : start();
              running.then(
                ({ value, cost }) => {
                  grant.settle(cost);
                  done(value);
                },
                (error: unknown) => {
                  grant.settle(error instanceof TaskFailure ? error.cost : undefined);
                  fail(error instanceof TaskFailure ? error.error : error);
                },
              );
            },
          });
        });
      ready
        .then(() => this.checkRate(job, limiter, limits))
        .then(() => limiter.schedule({ id: job.id }, viaFair))
        .then(
          (value) => {
            // SKIPPED: the caller was already rejected with BusyError('wait_timeout').
            if (value !== SKIPPED) resolve(value);
          },
          (error: unknown) => this.fail(job, error),
        );
    });
  }

  /**
   * A tenant whose per-minute budget is used waits for it to refill, and is told so; one that
   * would wait past the queue wait is told at once when to try again.
   */
  private async checkRate(job: PendingJob, limiter: Bottleneck, limits: TenantLimits): Promise<void> {
    if (job.state !== 'queued') return;
    const window = await rateWindow(limiter, this.refreshMs).catch(() => null);
    if (!window || window.left === null || window.left > 0 || job.state !== 'queued') return;
    const rpm = Math.max(1, limits.requestsPerMinute);
    // Jobs of this tenant already waiting take the refilled budget first.
    const before = this.waits.ownWaitingBefore(job);
    const inMs = window.refillInMs + Math.floor(before / rpm) * this.refreshMs;
    if (Date.now() - job.enqueuedAt + inMs > this.opts.queueWaitMs) {
      throw this.refuse('rate_limited', inMs, limits.requestsPerMinute);
    }
    job.rateUntil = Date.now() + inMs;
    this.waits.tell(job, { kind: 'rate', perMinute: limits.requestsPerMinute, inMs });
  }

  stats(): AdmissionStats {
    return { queuedByTenant: new Map(this.queuedByTenant), running: this.running, queued: this.queued };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.unsubscribe?.();
    this.waits.stop();
    for (const job of [...this.pending]) this.cancel(job, new Error('admission is closed'));
    const deadline = Date.now() + (this.opts.closeTimeoutMs ?? 10_000);
    while (this.running > 0 && Date.now() < deadline) await sleep(20);
    if (!this.built) return;
    const { group, global, redis } = this.built;
    // The Group's idle sweep has no public stop; it is unref'd, but a closed admission should
    // not keep polling a closed connection.
    clearInterval((group as unknown as { interval?: NodeJS.Timeout }).interval);
    await Promise.allSettled([...group.limiters().map(({ limiter }) => limiter.disconnect(false)), global.disconnect(false)]);
    await redis?.close();
  }

  private enqueue(tenantId: string, reject: (error: unknown) => void, onWait?: (wait: WaitInfo) => void): PendingJob {
    this.seq += 1;
    const job: PendingJob = { id: `${tenantId}#${this.seq}`, tenantId, enqueuedAt: Date.now(), state: 'queued', stage: 'tenant', reject, onWait };
    job.timer = setTimeout(() => this.cancel(job, this.refuse('wait_timeout')), this.opts.queueWaitMs);
    this.pending.add(job);
    this.countQueued(tenantId, 1);
    if (onWait) this.waits.listen();
    return job;
  }

  /** The job got both slots: it leaves the queue and starts running. Returns the wait in ms. */
  private markStarted(job: PendingJob): number {
    this.leaveQueue(job, 'running');
    this.running += 1;
    const waitedMs = Date.now() - job.enqueuedAt;
    this.metrics.queueWait.observe({ tenant: job.tenantId }, waitedMs / 1000);
    return waitedMs;
  }

  /** Rejects a waiting job now; Bottleneck will skip it when it reaches it. */
  private cancel(job: PendingJob, error: unknown): void {
    if (job.state !== 'queued') return;
    this.leaveQueue(job, 'cancelled');
    // Out of the fair queue now, and its tenant slot goes to the tenant's next job.
    if (job.ticket?.cancel()) job.leave?.();
    job.ticket = undefined;
    job.reject(error);
  }

  /** A job's chain failed: before it started that is a refusal by one of the queues. */
  private fail(job: PendingJob, error: unknown): void {
    if (job.state === 'cancelled') return;
    if (job.state === 'queued') {
      this.leaveQueue(job, 'finished');
      // OVERFLOW drops the new job when the queue it enters is at its highWater.
      if (error instanceof Bottleneck.BottleneckError && error.message === DROP_MESSAGE) {
        job.reject(this.refuse(job.stage === 'tenant' ? 'tenant_queue_full' : 'global_queue_full'));
        return;
      }
    }
    job.reject(error);
  }

  private leaveQueue(job: PendingJob, state: JobState): void {
    clearTimeout(job.timer);
    job.state = state;
    this.pending.delete(job);
    this.countQueued(job.tenantId, -1);
  }

  private countQueued(tenantId: string, delta: number): void {
    this.queued += delta;
    const n = (this.queuedByTenant.get(tenantId) ?? 0) + delta;
    // Drop empty entries (and metric series) so 10k mostly idle tenants cost nothing.
    if (n > 0) {
      this.queuedByTenant.set(tenantId, n);
      this.metrics.queueDepth.set({ tenant: tenantId }, n);
    } else {
      this.queuedByTenant.delete(tenantId);
      this.metrics.queueDepth.remove({ tenant: tenantId });
    }
  }

  private refuse(reason: BusyError['reason'], retryInMs?: number, perMinute?: number): BusyError {
    this.metrics.rejections.inc({ reason });
    return new BusyError(reason, retryInMs, perMinute);
  }
}

/** A task's own failure, with the cost it reported before failing (so its tenant is charged that). */
class TaskFailure {
  constructor(
    readonly error: unknown,
    readonly cost: number | undefined,
  ) {}
}

/** What a job is charged when its caller gives no estimate. */
const DEFAULT_WORK: WorkEstimate = { promptTokens: 500, outputTokens: 250 };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
