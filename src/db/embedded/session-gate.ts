/**
 * One PostgreSQL session, shared in turns. PGlite is a single backend session: a statement of one
 * client that runs in the middle of another client's transaction (or between its Bind and
 * Execute) becomes part of it. The gate lets exactly one holder use the session at a time — the
 * service's own queries and each socket client's whole transaction — and queues the rest in
 * arrival order.
 */
export class SessionGate {
  private holder: unknown = null;
  private readonly waiting: { who: unknown; grant: () => void; refuse: (err: Error) => void }[] = [];

  /** Resolves once `who` holds the session (at once if it already does). */
  acquire(who: unknown): Promise<void> {
    if (this.holder === who) return Promise.resolve();
    if (this.holder === null) {
      this.holder = who;
      return Promise.resolve();
    }
    return new Promise((grant, refuse) => this.waiting.push({ who, grant, refuse }));
  }

  /** `who` went away: its waits are refused (never granted to a holder that cannot release). */
  cancel(who: unknown, reason: Error): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const w = this.waiting[i]!;
      if (w.who !== who) continue;
      this.waiting.splice(i, 1);
      w.refuse(reason);
    }
  }

  /** Hands the session to the next waiter; a no-op unless `who` holds it. */
  release(who: unknown): void {
    if (this.holder !== who) return;
    const next = this.waiting.shift();
    this.holder = next ? next.who : null;
    next?.grant();
  }

  heldBy(who: unknown): boolean {
    return this.holder === who;
  }

  /** Runs `task` holding the session for a fresh holder of its own. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const me = {};
    await this.acquire(me);
    try {
      return await task();
    } finally {
      this.release(me);
    }
  }
}
