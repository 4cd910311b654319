/**
 * Slots of the pool's backends, handed out first come, first served. A call takes a slot on the
 * backend `choose` picks; when no backend it may use has a free one it waits here, in order, until
 * one frees, a 503 backoff ends or its wait limit passes ("overloaded"). The pool never has more
 * calls on a backend than its slots, so Ollama's own queue stays empty.
 *
 * When no backend that may have the model is up (all cooling down), a call is let through to the
 * cooling one due soonest, as a probe: with one backend that is what a call did before the pool,
 * and the backend comes back as soon as it answers.
 */
import { LlmError } from '../../ports/llm.js';
import type { PoolMember } from './member.js';
import { choose, servable, type RouteRequest } from './routing.js';

export type SlotRequest = Omit<RouteRequest, 'now'>;

/** Thrown by acquire() when no backend could ever serve the request: waiting is pointless. */
export class NoBackend extends Error {}

interface Waiter {
  req: SlotRequest;
  resolve(m: PoolMember): void;
  reject(err: unknown): void;
}

export class SlotQueue {
  private waiters: Waiter[] = [];
  private wakeTimer?: NodeJS.Timeout;
  private wakeAt = Infinity;

  constructor(
    private readonly members: readonly PoolMember[],
    private readonly onTaken: (m: PoolMember) => void,
  ) {}

  get waiting(): number {
    return this.waiters.length;
  }

  /** A slot for `req` within `waitMs`; `first` puts a retried call ahead of new ones. */
  acquire(req: SlotRequest, waitMs: number, signal?: AbortSignal, first = false): Promise<PoolMember> {
    if (signal?.aborted) return Promise.reject(new LlmError('aborted', 'the request was cancelled'));
    if (!servable(this.members, req.model, req.exclude)) return Promise.reject(new NoBackend(req.model));
    return new Promise<PoolMember>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      const waiter: Waiter = {
        req,
        resolve: (m) => (done(), resolve(m)),
        reject: (err) => (done(), reject(err)),
      };
      const onAbort = () => waiter.reject(new LlmError('aborted', 'the request was cancelled'));
      const timer = setTimeout(
        () => waiter.reject(new LlmError('overloaded', `no backend had a free slot for "${req.model}" within ${Math.round(waitMs)} ms`)),
        Math.max(0, waitMs),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      if (first) this.waiters.unshift(waiter);
      else this.waiters.push(waiter);
      this.pump();
    });
  }

  release(m: PoolMember): void {
    m.inUse--;
    this.onTaken(m);
    this.pump();
  }

  /** Hands free slots to waiters in order; call whenever a slot frees or a backend's state changes. */
  pump(): void {
    const now = performance.now();
    // With every slot taken nobody can be served: a long queue costs nothing per released slot.
    const anyFree = () => this.members.some((m) => m.inUse < m.slots && now >= m.busyUntil);
    for (const w of [...this.waiters]) {
      if (!anyFree()) break;
      const m = choose(this.members, { ...w.req, now }) ?? this.probeTarget(w.req);
      if (m) {
        m.inUse++;
        this.onTaken(m);
        w.resolve(m);
      } else if (!servable(this.members, w.req.model, w.req.exclude)) {
        w.reject(new NoBackend(w.req.model));
      }
    }
    this.armWake(now);
  }

  /** Rejects every waiter (the pool is closing). */
  close(err: unknown): void {
    clearTimeout(this.wakeTimer);
    for (const w of [...this.waiters]) w.reject(err);
  }

  private probeTarget(req: SlotRequest): PoolMember | undefined {
    const candidates = this.members.filter((m) => !req.exclude.has(m) && m.mayHave(req.model));
    if (candidates.length === 0 || candidates.some((m) => m.usable)) return undefined;
    return candidates.filter((m) => m.inUse < m.slots).sort((a, b) => a.retryAt - b.retryAt)[0];
  }

  /** Waiters held back only by a 503 backoff are looked at again when the earliest one ends. */
  private armWake(now: number): void {
    if (this.waiters.length === 0) return;
    const next = Math.min(...this.members.map((m) => (m.busyUntil > now ? m.busyUntil : Infinity)));
    if (next === Infinity || next >= this.wakeAt) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = next;
    this.wakeTimer = setTimeout(() => {
      this.wakeAt = Infinity;
      this.pump();
    }, next - now + 1);
    this.wakeTimer.unref();
  }
}
