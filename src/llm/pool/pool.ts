/**
 * Several Ollama servers behind the one LlmBackend the core sees (one OllamaBackend per server,
 * which stays the single-server client). The pool owns where a call goes and what happens when a
 * backend fails:
 *
 * - routing (routing.ts): a backend that is up, has the model and a free slot; the one that served
 *   the conversation before (affinity) while it has a free slot, else the least loaded, then the
 *   fastest. No backend ever gets more calls than its slots; beyond that calls wait here, first
 *   come first served, up to `waitMs` (slot-queue.ts).
 * - failover: a failure before the first token (refused, 5xx, 503 "busy", a stall, the model
 *   missing there) is tried again on another backend, or on the same one after a short wait for a
 *   503, while any backend can serve within `waitMs`; only then does the caller get the error. A
 *   failure after the first token is never retried (the text was shown): it propagates. A caller's
 *   abort is never retried and never counted against a backend.
 * - health (health.ts): a failed backend is cooled down with a doubling backoff and probed back
 *   in; `capacity()` is the slots of the backends that are up, and listeners hear when it changes.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../logger.js';
import type { MetricRegistry } from '../../metrics.js';
import { httpStatus } from '../errors.js';
import { OllamaBackend, type OllamaChatResult, type PinnedOptions } from '../ollama-backend.js';
import { LlmError, type BackendHealth, type ChatRequest, type ChatResult, type LlmBackend, type SlotCapacity } from '../../ports/llm.js';
import { HealthLoop } from './health.js';
import { PoolMember, type BackendSnapshot, type CooldownPolicy } from './member.js';
import { PoolMetrics } from './pool-metrics.js';
import { NoBackend, SlotQueue } from './slot-queue.js';

export interface BackendPoolOptions {
  /** The servers and their slots (each server's OLLAMA_NUM_PARALLEL). */
  backends: { host: string; parallel: number }[];
  /** Longest silence in a call before it is abandoned (OllamaBackend's stallMs). */
  stallMs: number;
  /** Longest whole call (OllamaBackend's timeoutMs). */
  timeoutMs: number;
  /** Longest a call waits for a slot, failovers included, before "overloaded" (QUEUE_WAIT_MS). */
  waitMs: number;
  /** The models the service needs (chat, embed): health() is ok while each is on a backend that is up. */
  models?: string[];
  pinned?: PinnedOptions;
  /** Background probe of the backends that are up, in ms. @defaultValue 5000 */
  healthIntervalMs?: number;
  /** Bound on each probe, in ms. @defaultValue 3000 */
  healthTimeoutMs?: number;
  /** Cooldown after a failure, doubling per failed probe. @defaultValue { minMs: 1000, maxMs: 30000 } */
  cooldown?: Partial<CooldownPolicy>;
  /** First wait after a 503 "busy" before that backend is asked again, doubling while it stays busy. @defaultValue 250 */
  busyWaitMs?: number;
  /** Conversations remembered for affinity. @defaultValue 10000 */
  affinityMax?: number;
  metrics?: MetricRegistry;
  logger?: Logger;
  fetch?: typeof fetch;
}

type Failure = 'cancelled' | 'busy' | 'missing' | 'dead' | 'refused';

/** What a failed attempt says about the backend, and so what the pool does next. */
function classify(err: LlmError): Failure {
  if (err.kind === 'aborted') return 'cancelled';
  if (err.kind === 'overloaded') return 'busy';
  if (err.kind === 'unknown_model') return 'missing';
  const status = httpStatus(err.cause);
  // A request the server refuses as wrong (400 ...) would be refused anywhere.
  if (status !== undefined && status >= 400 && status < 500) return 'refused';
  return 'dead';
}

export class BackendPool implements LlmBackend, SlotCapacity {
  private readonly members: PoolMember[];
  private readonly slots: SlotQueue;
  private readonly loop: HealthLoop;
  private readonly metrics: PoolMetrics;
  private readonly affinity: LRUCache<string, PoolMember>;
  private readonly listeners = new Set<() => void>();
  private readonly models: string[];
  private started = false;

  constructor(private readonly opts: BackendPoolOptions) {
    if (opts.backends.length === 0) throw new Error('a backend pool needs at least one backend');
    const policy: CooldownPolicy = { minMs: opts.cooldown?.minMs ?? 1000, maxMs: opts.cooldown?.maxMs ?? 30_000 };
    this.members = opts.backends.map(
      (b) =>
        new PoolMember(
          new OllamaBackend({
            host: b.host,
            stallMs: opts.stallMs,
            timeoutMs: opts.timeoutMs,
            healthTimeoutMs: opts.healthTimeoutMs,
            pinned: opts.pinned,
            metrics: opts.metrics,
            logger: opts.logger,
            fetch: opts.fetch,
          }),
          b.host,
          b.parallel,
          policy,
        ),
    );
    this.models = [...new Set(opts.models ?? [])];
    this.metrics = new PoolMetrics(opts.metrics);
    for (const m of this.members) this.metrics.register(m);
    this.affinity = new LRUCache({ max: opts.affinityMax ?? 10_000 });
    this.slots = new SlotQueue(this.members, (m) => this.metrics.load(m));
    this.loop = new HealthLoop(this.members, {
      intervalMs: opts.healthIntervalMs ?? 5000,
      onProbe: (m, r) => {
        if (r.ok) {
          m.version = r.probe.version;
          const modelsChanged = m.setModels(r.probe.models);
          const cameBack = m.markUp('probe');
          if (cameBack || modelsChanged) this.changed(m, cameBack ? 'up' : undefined);
        } else {
          this.failed(m, r.error.message);
        }
      },
    });
  }

  async chat(req: ChatRequest, onText: (delta: string) => void): Promise<ChatResult> {
    let started = false;
    const result = await this.run(req.model, req.affinity, req.signal, () => started, async (m) => {
      const r: OllamaChatResult = await m.backend.chat(req, (delta) => {
        started = true;
        onText(delta);
      });
      if (r.evalMs) {
        m.recordSpeed(r.completionTokens, r.evalMs);
        this.metrics.measured(m);
      }
      return r;
    });
    const { evalMs: _evalMs, ...rest } = result;
    return rest;
  }

  /** Failover before any result: a batch is never half from one backend and half from another. */
  embed(model: string, inputs: string[], signal?: AbortSignal): Promise<number[][]> {
    return this.run(model, undefined, signal, () => false, (m) => m.backend.embed(model, inputs, signal));
  }

  /** Probes every backend; ok while each configured model is on at least one backend that is up. */
  async health(): Promise<BackendHealth> {
    this.start();
    await this.loop.probeAll();
    const up = this.members.filter((m) => m.usable && m.models);
    const models = [...new Set(up.flatMap((m) => [...m.models!]))].sort();
    if (up.length === 0) {
      return { ok: false, models: [], error: this.members.map((m) => `${m.label}: ${m.reason ?? 'not reachable'}`).join('; ') };
    }
    const missing = this.models.filter((model) => !up.some((m) => m.has(model)));
    if (missing.length > 0) return { ok: false, models, error: `no backend that is up has ${missing.join(', ')}` };
    return { ok: true, models };
  }

  /** True when a backend that is up has it (the model lists are refreshed once when none has). */
  async hasModel(model: string): Promise<boolean> {
    this.start();
    const known = () => this.members.some((m) => m.usable && m.has(model));
    if (known()) return true;
    await this.loop.probeAll();
    if (known()) return true;
    if (!this.members.some((m) => m.usable)) throw new LlmError('unreachable', 'no model server can be reached');
    return false;
  }

  /** Pulls what is missing on every backend that can be reached. */
  async ensureModels(models: string[], onProgress: (line: string) => void): Promise<void> {
    this.start();
    await this.loop.probeAll();
    const reachable = this.members.filter((m) => m.usable);
    if (reachable.length === 0) throw new LlmError('unreachable', 'no model server can be reached');
    const failures: unknown[] = [];
    for (const m of reachable) {
      const prefix = this.members.length > 1 ? `${m.label}: ` : '';
      await m.backend.ensureModels(models, (line) => onProgress(prefix + line)).catch((err: unknown) => failures.push(err));
      await this.loop.probe(m);
    }
    if (failures.length > 0) throw failures[0];
  }

  capacity(): number {
    this.start();
    return this.members.reduce((n, m) => n + (m.usable ? m.slots : 0), 0);
  }

  onCapacityChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): BackendSnapshot[] {
    const now = performance.now();
    return this.members.map((m) => m.snapshot(now));
  }

  /** Calls waiting for a slot now. */
  get waiting(): number {
    return this.slots.waiting;
  }

  /** Stops the health checks; calls still waiting for a slot fail as cancelled. */
  close(): void {
    this.loop.close();
    this.slots.close(new LlmError('aborted', 'the backend pool is closed'));
  }

  /** Health checks start with the first use, so building the pool contacts no server. */
  private start(): void {
    if (this.started) return;
    this.started = true;
    this.loop.start();
  }

  private async run<T>(
    model: string,
    affinity: string | undefined,
    signal: AbortSignal | undefined,
    started: () => boolean,
    attempt: (m: PoolMember) => Promise<T>,
  ): Promise<T> {
    this.start();
    const deadline = performance.now() + this.opts.waitMs;
    const exclude = new Set<PoolMember>();
    let lastError: LlmError | undefined;
    for (let tries = 0; ; tries++) {
      let m: PoolMember;
      try {
        const preferred = affinity ? this.affinity.get(affinity) : undefined;
        m = await this.slots.acquire({ model, preferred, exclude }, deadline - performance.now(), signal, tries > 0);
      } catch (err) {
        const e = err instanceof NoBackend ? (lastError ?? new LlmError('unknown_model', `no model server has the model "${model}"`)) : (err as LlmError);
        if (e.kind !== 'aborted') this.metrics.gaveUp(e.kind);
        throw e;
      }
      m.calls++;
      this.metrics.called(m);
      try {
        const result = await attempt(m);
        if (m.markUp('call')) this.changed(m, 'up');
        if (affinity) this.affinity.set(affinity, m);
        return result;
      } catch (err) {
        if (!(err instanceof LlmError)) throw err; // the caller's own callback failed
        const failure = classify(err);
        if (failure === 'cancelled' || signal?.aborted) throw err;
        m.countError(err.kind);
        this.metrics.failed(m, err.kind);
        if (failure === 'dead') this.failed(m, err.message);
        else if (failure === 'busy') m.markBusy(performance.now(), this.opts.busyWaitMs ?? 250);
        else if (failure === 'missing') m.forget(model);
        if (started() || failure === 'refused') {
          this.metrics.gaveUp(err.kind);
          throw err;
        }
        lastError = err;
        if (failure !== 'busy') exclude.add(m);
        this.metrics.failedOver(m);
        this.opts.logger?.info({ backend: m.label, kind: err.kind, model }, 'call failed before its first token: trying again');
      } finally {
        this.slots.release(m);
      }
    }
  }

  private failed(m: PoolMember, reason: string): void {
    const wasUp = m.markFailed(reason, performance.now());
    this.loop.scheduleRetry(m);
    if (wasUp) this.changed(m, 'down');
  }

  /** `to`: the backend came back or went down; undefined when only its model list changed. */
  private changed(m: PoolMember, to?: 'up' | 'down'): void {
    this.metrics.health(m);
    if (to === 'up') this.opts.logger?.info({ backend: m.label, models: m.models && [...m.models] }, 'backend up');
    else if (to === 'down') this.opts.logger?.warn({ backend: m.label, reason: m.reason, retryInMs: m.cooldownMs }, 'backend failing: cooled down');
    for (const l of this.listeners) l();
    this.slots.pump();
  }
}
