/**
 * Admission with Bottleneck: one limiter per tenant (a Bottleneck Group keyed by tenant id)
 * in front of one global limiter sized to the backend's parallel slots.
 *
 * Fairness comes from the chaining: a job enters the global FIFO only once it holds one of its
 * tenant's `maxConcurrent` slots, so a tenant can never have more than `maxConcurrent` jobs in
 * the global queue, however many it submits; everyone else's jobs are interleaved with them.
 * We chain by hand (tenant job = "schedule on the global limiter") instead of
 * `limiter.chain(global)`: same semantics, but a job whose caller already got "busy" (wait
 * time-out) is skipped before it takes a place in the global queue.
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
import { buildLimiters, settle, type Limiters } from './bottleneck-limiters.js';
import type { TenantScope, TenantLimits } from '../ports/tenancy.js';
import { BusyError, type Admission, type AdmissionStats, type RunOptions } from '../ports/admission.js';

export interface BottleneckAdmissionOptions {
  /** Backend slots (OLLAMA_PARALLEL): jobs running at once over all tenants (and instances with Redis). */
  parallel: number;
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
  /** How long close() waits for running tasks before disconnecting. */
  closeTimeoutMs?: number;
}

type JobState = 'queued' | 'running' | 'finished' | 'cancelled';

interface PendingJob {
  readonly id: string;
  readonly tenantId: string;
  readonly enqueuedAt: number;
  state: JobState;
  /** Where the job waits: for a tenant slot, or (holding one) for a global slot. */
  stage: 'tenant' | 'global';
  timer?: NodeJS.Timeout;
  reject: (error: unknown) => void;
}

/** What a tenant limiter was last configured with. */
interface AppliedLimits {
  maxConcurrent: number;
  maxQueued: number;
  requestsPerMinute: number;
  /** Settles when the last settings update reached the datastore. */
  ready: Promise<void>;
}

const SKIPPED = Symbol('skipped');
const DROP_MESSAGE = 'This job has been dropped by Bottleneck';

export class BottleneckAdmission implements Admission {
  private built?: Limiters;
  private readonly applied = new WeakMap<Bottleneck, AppliedLimits>();
  private readonly pending = new Set<PendingJob>();
  private readonly queuedByTenant = new Map<string, number>();
  /** Jobs per tenant waiting for or holding a global slot, for fair priorities. */
  private readonly globalByTenant = new Map<string, number>();
  private readonly refreshMs: number;
  private readonly metrics: AdmissionMetrics;
  private queued = 0;
  private running = 0;
  private seq = 0;
  private closing?: Promise<void>;

  constructor(private readonly opts: BottleneckAdmissionOptions) {
    this.refreshMs = opts.reservoirRefreshIntervalMs ?? 60_000;
    this.metrics = new AdmissionMetrics(opts.metrics ?? noMetrics);
    const idleTimeoutMs = opts.idleTimeoutMs ?? 15 * 60_000;
    if (idleTimeoutMs <= opts.queueWaitMs) opts.logger?.warn({ idleTimeoutMs }, 'limiter idle timeout is shorter than the queue wait');
  }

  /** Built on first use, so constructing an admission (a tool, a test) never reaches Redis. */
  private limiters(): Limiters {
    this.built ??= buildLimiters(this.opts);
    return this.built;
  }

  run<T>(scope: TenantScope, limits: TenantLimits, task: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { onStart, signal } = options;
    if (this.closing) return Promise.reject(new Error('admission is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const tenantId = scope.tenantId;
    // A tenant with no concurrency can never start a job: refuse rather than let it time out.
    if (limits.maxConcurrent < 1) return Promise.reject(this.refuse('tenant_queue_full'));
    if (this.queued >= this.opts.queueMax) return Promise.reject(this.refuse('global_queue_full'));
    const { global, globalReady } = this.limiters();
    const limiter = this.tenantLimiter(tenantId, limits);
    const ready = Promise.all([globalReady, this.applied.get(limiter)?.ready]);

    return new Promise<T>((resolve, reject) => {
      const job = this.enqueue(tenantId, reject);
      // A caller that gives up while waiting leaves the queue now; Bottleneck skips the job later.
      signal?.addEventListener('abort', () => this.cancel(job, signal.reason), { once: true });
      const start = async (): Promise<T | typeof SKIPPED> => {
        if (job.state !== 'queued') return SKIPPED;
        const waitedMs = this.markStarted(job);
        try {
          onStart?.(waitedMs);
          return await task();
        } finally {
          job.state = 'finished';
          this.running -= 1;
        }
      };
      const viaGlobal = (): Promise<T | typeof SKIPPED> => {
        if (job.state !== 'queued') return Promise.resolve(SKIPPED);
        job.stage = 'global';
        // The global queue is FIFO within a priority. A tenant's first job in it goes ahead
        // of another tenant's second or third, so a tenant holding several slots cannot make
        // a quiet tenant wait behind its backlog (Bottleneck: 0 is the highest priority).
        const held = this.globalByTenant.get(tenantId) ?? 0;
        this.globalByTenant.set(tenantId, held + 1);
        return global.schedule({ id: job.id, priority: Math.min(9, held) }, start).finally(() => {
          const n = (this.globalByTenant.get(tenantId) ?? 1) - 1;
          if (n > 0) this.globalByTenant.set(tenantId, n);
          else this.globalByTenant.delete(tenantId);
        });
      };
      ready
        .then(() => limiter.schedule({ id: job.id }, viaGlobal))
        .then(
          (value) => {
            // SKIPPED: the caller was already rejected with BusyError('wait_timeout').
            if (value !== SKIPPED) resolve(value);
          },
          (error: unknown) => this.fail(job, error),
        );
    });
  }

  stats(): AdmissionStats {
    return { queuedByTenant: new Map(this.queuedByTenant), running: this.running, queued: this.queued };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
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

  /**
   * The tenant's limiter, configured for `limits`. A new limiter is created with the tenant's
   * settings (Group options are set just before `key()`, which copies them synchronously);
   * an existing one whose limits changed gets `updateSettings`.
   */
  private tenantLimiter(tenantId: string, limits: TenantLimits): Bottleneck {
    const rpm = limits.requestsPerMinute;
    const settings = { maxConcurrent: limits.maxConcurrent, highWater: limits.maxQueued, reservoirRefreshAmount: rpm };
    const { group, redis } = this.limiters();
    group.updateSettings({
      ...settings,
      strategy: Bottleneck.strategy.OVERFLOW,
      reservoir: rpm,
      reservoirRefreshInterval: this.refreshMs,
    });
    const limiter = group.key(tenantId);
    const applied = this.applied.get(limiter);
    if (!applied) {
      // With Redis the tenant's keys may already exist (another instance, or older limits):
      // push the caps but leave the shared reservoir as it is.
      const ready = redis ? settle(limiter.updateSettings(settings), this.opts.logger) : Promise.resolve();
      this.applied.set(limiter, { maxConcurrent: limits.maxConcurrent, maxQueued: limits.maxQueued, requestsPerMinute: rpm, ready });
    } else if (
      applied.maxConcurrent !== limits.maxConcurrent ||
      applied.maxQueued !== limits.maxQueued ||
      applied.requestsPerMinute !== rpm
    ) {
      // A new plan: a different requests-per-minute starts a fresh budget at the new size.
      const update = applied.requestsPerMinute !== rpm ? { ...settings, reservoir: rpm } : settings;
      applied.maxConcurrent = limits.maxConcurrent;
      applied.maxQueued = limits.maxQueued;
      applied.requestsPerMinute = rpm;
      applied.ready = applied.ready.then(() => settle(limiter.updateSettings(update), this.opts.logger));
    }
    return limiter;
  }

  private enqueue(tenantId: string, reject: (error: unknown) => void): PendingJob {
    this.seq += 1;
    const job: PendingJob = { id: `${tenantId}#${this.seq}`, tenantId, enqueuedAt: Date.now(), state: 'queued', stage: 'tenant', reject };
    job.timer = setTimeout(() => this.cancel(job, this.refuse('wait_timeout')), this.opts.queueWaitMs);
    this.pending.add(job);
    this.countQueued(tenantId, 1);
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

  private refuse(reason: BusyError['reason']): BusyError {
    this.metrics.rejections.inc({ reason });
    return new BusyError(reason);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
