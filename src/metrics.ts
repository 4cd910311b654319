/**
 * Metrics with one owner each. The composition root creates one registry per process and hands
 * it to the modules that measure something; each module registers its own metrics on it and is
 * the only one that writes them. A name registered again with another definition throws, so a
 * second writer cannot creep in unnoticed (a second instance of the same module shares the
 * series). The core sees only the small interfaces below, not prom-client.
 */
import { Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Labels<L extends string> = Partial<Record<L, string | number>>;

export interface Counter<L extends string = string> {
  inc(labels: Labels<L>, value?: number): void;
}
export interface Gauge<L extends string = string> {
  set(labels: Labels<L>, value: number): void;
  remove(labels: Labels<L>): void;
}
export interface Histogram<L extends string = string> {
  observe(labels: Labels<L>, value: number): void;
}

export interface MetricDefinition<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
}

/** What a measuring module needs: a place to register the metrics it owns. */
export interface MetricRegistry {
  counter<L extends string>(def: MetricDefinition<L>): Counter<L>;
  gauge<L extends string>(def: MetricDefinition<L>): Gauge<L>;
  histogram<L extends string>(def: MetricDefinition<L> & { buckets: number[] }): Histogram<L>;
}

/** The process's Prometheus registry (no global registry, so tests can make as many as they like). */
export class PrometheusMetrics implements MetricRegistry {
  readonly registry = new Registry();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string>(def: MetricDefinition<L>): Counter<L> {
    return (this.existing(def, 'counter') ??
      new PromCounter({ ...def, labelNames: [...def.labelNames], registers: [this.registry] })) as unknown as Counter<L>;
  }

  gauge<L extends string>(def: MetricDefinition<L>): Gauge<L> {
    return (this.existing(def, 'gauge') ??
      new PromGauge({ ...def, labelNames: [...def.labelNames], registers: [this.registry] })) as unknown as Gauge<L>;
  }

  histogram<L extends string>(def: MetricDefinition<L> & { buckets: number[] }): Histogram<L> {
    return (this.existing(def, 'histogram') ??
      new PromHistogram({ ...def, labelNames: [...def.labelNames], registers: [this.registry] })) as unknown as Histogram<L>;
  }

  /** The Prometheus text exposition, for GET /metrics. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** The metric already registered under this name by the same definition; throws for a different one. */
  private existing(def: MetricDefinition<string>, type: string): unknown {
    const found = this.registry.getSingleMetric(def.name) as
      | { help: string; labelNames: readonly string[]; constructor: { name: string } }
      | undefined;
    if (!found) return undefined;
    const same =
      found.constructor.name.toLowerCase() === type &&
      found.help === def.help &&
      found.labelNames.join(',') === def.labelNames.join(',');
    if (!same) throw new Error(`metric ${def.name} is already registered with another definition: every metric has exactly one owning module`);
    return found;
  }
}

/** For modules built without a registry (unit tests, tools): measures nothing. */
export const noMetrics: MetricRegistry = {
  counter: () => ({ inc: () => undefined }),
  gauge: () => ({ set: () => undefined, remove: () => undefined }),
  histogram: () => ({ observe: () => undefined }),
};
