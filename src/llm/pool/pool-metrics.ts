/**
 * The metrics the backend pool owns, labelled by `backend` (the URL without credentials). The
 * per-call metrics of a single server (bot_llm_latency_seconds, bot_llm_errors_total) stay with
 * OllamaBackend and count each attempt once; these say which backend served or failed, and how
 * often a call moved on to another backend before its first token.
 */
import type { LlmErrorKind } from '../../ports/llm.js';
import { noMetrics, type Counter, type Gauge, type MetricRegistry } from '../../metrics.js';
import type { PoolMember } from './member.js';

export const POOL_METRICS = {
  up: 'bot_backend_up',
  slots: 'bot_backend_slots',
  inUse: 'bot_backend_slots_in_use',
  speed: 'bot_backend_tokens_per_second',
  calls: 'bot_backend_calls_total',
  errors: 'bot_backend_errors_total',
  failovers: 'bot_backend_failovers_total',
  refused: 'bot_pool_refused_total',
} as const;

export class PoolMetrics {
  private readonly up: Gauge<'backend'>;
  private readonly slots: Gauge<'backend'>;
  private readonly inUse: Gauge<'backend'>;
  private readonly speed: Gauge<'backend'>;
  private readonly calls: Counter<'backend'>;
  private readonly errors: Counter<'backend' | 'kind'>;
  private readonly failovers: Counter<'backend'>;
  private readonly refused: Counter<'kind'>;

  constructor(registry: MetricRegistry = noMetrics) {
    const b = ['backend'] as const;
    this.up = registry.gauge({ name: POOL_METRICS.up, help: 'Whether the backend serves (1) or is cooling down or down (0)', labelNames: b });
    this.slots = registry.gauge({ name: POOL_METRICS.slots, help: 'Calls the pool sends the backend at once at most (its OLLAMA_PARALLEL)', labelNames: b });
    this.inUse = registry.gauge({ name: POOL_METRICS.inUse, help: 'Calls the backend is serving now', labelNames: b });
    this.speed = registry.gauge({ name: POOL_METRICS.speed, help: 'Generated tokens per second (moving average of Ollama eval_count over eval_duration)', labelNames: b });
    this.calls = registry.counter({ name: POOL_METRICS.calls, help: 'Chat and embed calls sent to the backend (each attempt)', labelNames: b });
    this.errors = registry.counter({ name: POOL_METRICS.errors, help: 'Calls to the backend that failed, by kind (caller cancellations not counted)', labelNames: ['backend', 'kind'] });
    this.failovers = registry.counter({
      name: POOL_METRICS.failovers,
      help: 'Calls that failed on this backend before their first token and were tried again (on another backend, or this one after a wait)',
      labelNames: b,
    });
    this.refused = registry.counter({ name: POOL_METRICS.refused, help: 'Calls the pool gave up on: the caller got the error (no backend could serve within the wait limit)', labelNames: ['kind'] });
  }

  register(m: PoolMember): void {
    this.slots.set({ backend: m.label }, m.slots);
    this.load(m);
    this.health(m);
  }

  load(m: PoolMember): void {
    this.inUse.set({ backend: m.label }, m.inUse);
  }

  health(m: PoolMember): void {
    this.up.set({ backend: m.label }, m.usable ? 1 : 0);
  }

  called(m: PoolMember): void {
    this.calls.inc({ backend: m.label });
  }

  measured(m: PoolMember): void {
    if (m.tokensPerSecond !== undefined) this.speed.set({ backend: m.label }, m.tokensPerSecond);
  }

  failed(m: PoolMember, kind: LlmErrorKind): void {
    this.errors.inc({ backend: m.label, kind });
  }

  failedOver(m: PoolMember): void {
    this.failovers.inc({ backend: m.label });
  }

  gaveUp(kind: LlmErrorKind): void {
    this.refused.inc({ kind });
  }
}
