/**
 * The ask pipeline's metrics: tokens metered per tenant, questions refused because the
 * tenant's daily tokens are spent, and retrieval failures that degraded an answer to one
 * without references. Only AskPipeline writes them.
 */
import type { Counter, MetricRegistry } from '../metrics.js';

export class AnswerMetrics {
  readonly tokens: Counter<'tenant' | 'kind'>;
  readonly quotaRefusals: Counter<never>;
  readonly retrievalErrors: Counter<'kind'>;

  constructor(registry: MetricRegistry) {
    this.tokens = registry.counter({
      name: 'bot_llm_tokens_total',
      help: 'Tokens metered from the backend, by tenant and kind (prompt|completion)',
      labelNames: ['tenant', 'kind'],
    });
    this.quotaRefusals = registry.counter({
      name: 'bot_quota_refusals_total',
      help: "Questions refused because the tenant's tokens for the day were spent",
      labelNames: [],
    });
    this.retrievalErrors = registry.counter({
      name: 'bot_retrieval_errors_total',
      help: 'Retrievals that failed (the answer went out without references), by kind',
      labelNames: ['kind'],
    });
  }
}
