/**
 * The admission metrics: queue depth and wait per tenant, and refusals by reason. Registered
 * by BottleneckAdmission on the registry the root passes in; nothing else writes them.
 */
import type { Counter, Gauge, Histogram, MetricRegistry } from '../metrics.js';

export class AdmissionMetrics {
  readonly queueDepth: Gauge<'tenant'>;
  readonly queueWait: Histogram<'tenant'>;
  readonly rejections: Counter<'reason'>;

  constructor(registry: MetricRegistry) {
    this.queueDepth = registry.gauge({ name: 'bot_queue_depth', help: 'Requests waiting for the backend, per tenant', labelNames: ['tenant'] });
    this.queueWait = registry.histogram({
      name: 'bot_queue_wait_seconds',
      help: 'Time a request waited for admission, per tenant',
      labelNames: ['tenant'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
    });
    this.rejections = registry.counter({
      name: 'bot_rejections_total',
      help: 'Requests refused by admission (a full queue or a wait past QUEUE_WAIT_MS), by reason',
      labelNames: ['reason'],
    });
  }
}
