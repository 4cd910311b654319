/**
 * How fast this instance stores accepted deliveries lately. Acks and answers share one process,
 * one database pool and, on a small machine, the same cores: when the durable accept (what an
 * ack waits for) slows down, taking on more answers would slow every ack further (Slack retries
 * what it does not hear back from within 3 s). So while accepts are slow, new answers wait in the
 * database and start as accepts are fast again.
 */
export class AckPressure {
  private average = 0;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(
    /** Accepts slower than this, on average, mean "no new answers now". @defaultValue 15 */
    private readonly thresholdMs = 15,
    /** With no accept for this long, the pressure is gone. @defaultValue 500 */
    private readonly quietMs = 500,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** One accept took `ms` (an exponentially weighted average of the recent ones is kept). */
  record(ms: number): void {
    this.average = this.lastAt === Number.NEGATIVE_INFINITY ? ms : this.average * 0.8 + ms * 0.2;
    this.lastAt = this.now();
  }

  congested(): boolean {
    return this.average > this.thresholdMs && this.accepting();
  }

  /** Deliveries arrived lately (answers then start a few at a time, so acks stay quick). */
  accepting(): boolean {
    return this.now() - this.lastAt < this.quietMs;
  }

  get averageMs(): number {
    return this.average;
  }
}
