/**
 * The pool's background health checks. Every `intervalMs` each backend that is up is probed
 * (version and model list, so a model pulled or removed there is seen); a backend cooling down
 * is probed when its cooldown ends, so it comes back as soon as it answers, and if it does not
 * its next cooldown is twice as long. Timers are unref'd: they never keep a process alive.
 */
import type { OllamaProbe } from '../ollama-backend.js';
import type { PoolMember } from './member.js';

export interface HealthLoopOptions {
  intervalMs: number;
  /** Records what a probe found (the pool updates the member's state, models and listeners). */
  onProbe(m: PoolMember, result: { ok: true; probe: OllamaProbe } | { ok: false; error: Error }): void;
}

export class HealthLoop {
  private interval?: NodeJS.Timeout;
  private readonly retries = new Map<PoolMember, NodeJS.Timeout>();
  private readonly inFlight = new Map<PoolMember, Promise<void>>();
  private closed = false;

  constructor(
    private readonly members: readonly PoolMember[],
    private readonly opts: HealthLoopOptions,
  ) {}

  start(): void {
    void this.probeAll();
    this.interval = setInterval(() => void this.probeAll((m) => m.usable), this.opts.intervalMs);
    this.interval.unref();
  }

  /** Probes the backends (all by default) now; resolves when every probe has answered. */
  async probeAll(which: (m: PoolMember) => boolean = () => true): Promise<void> {
    await Promise.all(this.members.filter(which).map((m) => this.probe(m)));
  }

  /** Probes `m`, sharing a probe already running. */
  probe(m: PoolMember): Promise<void> {
    const running = this.inFlight.get(m);
    if (running) return running;
    const p = m.backend
      .probe()
      .then(
        (probe) => this.closed || this.opts.onProbe(m, { ok: true, probe }),
        (err: unknown) => this.closed || this.opts.onProbe(m, { ok: false, error: err as Error }),
      )
      .then(() => undefined)
      .finally(() => this.inFlight.delete(m));
    this.inFlight.set(m, p);
    return p;
  }

  /** After `m` failed: probe it when its cooldown ends. */
  scheduleRetry(m: PoolMember): void {
    if (this.closed) return;
    clearTimeout(this.retries.get(m));
    const timer = setTimeout(() => {
      this.retries.delete(m);
      if (!m.usable) void this.probe(m);
    }, m.cooldownMs);
    timer.unref();
    this.retries.set(m, timer);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.interval);
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
  }
}
