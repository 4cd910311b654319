/** Reads one series of a PrometheusMetrics registry: the sum over samples whose labels match. */
import type { PrometheusMetrics } from '../../src/metrics.js';

export async function metricValue(metrics: PrometheusMetrics, name: string, labels: Record<string, string> = {}, sample = name): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, unknown>; metricName?: string }>;
  return values
    .filter((v) => (v.metricName ?? name) === sample && Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((sum, v) => sum + v.value, 0);
}
