/**
 * Each tenant's Bottleneck limiter (one of a Bottleneck Group keyed by tenant id), kept configured
 * to the tenant's current limits: requests at once, queued, and per minute (the reservoir).
 */
import Bottleneck from 'bottleneck';
import type { Logger } from '../logger.js';
import { settle, type Limiters } from './bottleneck-limiters.js';
import type { TenantLimits } from '../ports/tenancy.js';

/** What a tenant limiter was last configured with. */
interface AppliedLimits {
  maxConcurrent: number;
  maxQueued: number;
  requestsPerMinute: number;
  /** Settles when the last settings update reached the datastore. */
  ready: Promise<void>;
}

export class TenantLimiters {
  private readonly applied = new WeakMap<Bottleneck, AppliedLimits>();

  constructor(
    private readonly limiters: () => Limiters,
    /** Length of the requests-per-minute window. */
    private readonly refreshMs: number,
    private readonly logger?: Logger,
  ) {}

  /** Settles when the limiter's last settings update reached its datastore. */
  ready(limiter: Bottleneck): Promise<void> | undefined {
    return this.applied.get(limiter)?.ready;
  }

  /**
   * The tenant's limiter, configured for `limits`. A new limiter is created with the tenant's
   * settings (Group options are set just before `key()`, which copies them synchronously);
   * an existing one whose limits changed gets `updateSettings`.
   */
  for(tenantId: string, limits: TenantLimits): Bottleneck {
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
      const ready = redis ? settle(limiter.updateSettings(settings), this.logger) : Promise.resolve();
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
      applied.ready = applied.ready.then(() => settle(limiter.updateSettings(update), this.logger));
    }
    return limiter;
  }
}
