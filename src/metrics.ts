/**
 * Prometheus metrics. One instance per process, created in the composition root with its own
 * registry (no global registry, so tests can create as many as they like).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  readonly messages = new Counter({
    name: 'bot_messages_total',
    help: 'Inbound messages by platform and outcome',
    labelNames: ['platform', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'bot_queue_depth',
    help: 'Requests waiting for the backend, per tenant',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'bot_queue_wait_seconds',
    help: 'Time a request waited for admission, per tenant',
    labelNames: ['tenant'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly llmLatency = new Histogram({
    name: 'bot_llm_latency_seconds',
    help: 'Backend chat latency',
    labelNames: ['model'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160],
    registers: [this.registry],
  });
  readonly llmTokens = new Counter({
    name: 'bot_llm_tokens_total',
    help: 'Tokens metered from the backend, by tenant and kind (prompt|completion)',
    labelNames: ['tenant', 'kind'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'bot_errors_total',
    help: 'Errors by component and kind',
    labelNames: ['component', 'kind'] as const,
    registers: [this.registry],
  });
  readonly rejections = new Counter({
    name: 'bot_rejections_total',
    help: 'Requests refused by admission, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
