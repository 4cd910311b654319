/**
 * The engine's metrics: every handled message once, by platform and outcome, and the messages
 * that ended in a fault (not a refusal) by error code. Only the Engine writes them.
 */
import type { Counter, MetricRegistry } from '../metrics.js';
import type { HandleOutcome } from '../ports/engine.js';
import type { Platform } from '../ports/tenancy.js';

export class MessageMetrics {
  private readonly messages: Counter<'platform' | 'outcome'>;
  private readonly errors: Counter<'code'>;

  constructor(registry: MetricRegistry) {
    this.messages = registry.counter({
      name: 'bot_messages_total',
      help: 'Inbound messages by platform and outcome',
      labelNames: ['platform', 'outcome'],
    });
    this.errors = registry.counter({
      name: 'bot_errors_total',
      help: 'Messages that ended in a fault (not a refusal), by error code',
      labelNames: ['code'],
    });
  }

  handled(platform: Platform, result: HandleOutcome): void {
    this.messages.inc({ platform, outcome: result.status });
    if (result.status === 'failed') this.errors.inc({ code: result.code ?? 'internal' });
  }
}
