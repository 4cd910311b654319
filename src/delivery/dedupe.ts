/**
 * Remembers platform delivery ids so a retried delivery (Slack's X-Slack-Retry-Num, a gateway
 * replay) never produces a second answer, even across instances sharing the database: the
 * primary key makes the first insert win.
 */
import { lt } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { processedEvents } from '../db/schema.js';
import type { DeliveryDedupe } from '../ports/stores.js';

export class EventDeduper implements DeliveryDedupe {
  private lastPrune = 0;

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 24 * 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True the first time (platform, eventId) is seen within the TTL; false for a repeat. */
  async firstDelivery(platform: string, eventId: string): Promise<boolean> {
    const t = this.now();
    if (t - this.lastPrune > 10 * 60 * 1000) {
      this.lastPrune = t;
      await this.prune();
    }
    const rows = await this.db
      .insert(processedEvents)
      .values({ platform, eventId, expiresAt: new Date(t + this.ttlMs) })
      .onConflictDoNothing()
      .returning({ eventId: processedEvents.eventId });
    return rows.length === 1;
  }

  async prune(): Promise<void> {
    await this.db.delete(processedEvents).where(lt(processedEvents.expiresAt, new Date(this.now())));
  }
}
