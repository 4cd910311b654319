/**
 * Removes Bottleneck's 1 ms timer clamps from the in-process path.
 *
 * Bottleneck 2.19.5 (its last release, so these internals stay put) yields to the event loop
 * with `setTimeout(fn, 0)`: several times per job in its local datastore, and once more to
 * start each job. Node clamps a 0 ms timeout to 1 ms, so a job passing a tenant limiter and
 * the global one waited about 10 ms for nothing (measured through BottleneckAdmission: 9.8 ms
 * per job before, see the note in the bench). setImmediate yields the same way (pending I/O
 * runs first) without the clamp. Timers with a real delay (minTime, reservoir) are untouched.
 * Only for limiters on the local datastore: with Redis the round trips dominate anyway.
 */
import type Bottleneck from 'bottleneck';

interface LimiterInternals {
  _store?: { yieldLoop?: (t?: number) => Promise<void> };
  _run?: (index: string, job: JobInternals, wait: number) => unknown;
  _scheduled?: Record<string, unknown>;
  _limiter?: unknown;
  _clearGlobalState?: (index: string) => boolean;
  _free?: (index: string, job: JobInternals, ...rest: unknown[]) => unknown;
}

interface JobInternals {
  options: { expiration?: number | null };
  doRun(): void;
  doExecute(limiter: unknown, clearGlobalState: () => boolean, run: (wait: number) => unknown, free: (...a: unknown[]) => unknown): unknown;
}

export function yieldWithoutTimers(limiter: Bottleneck): void {
  const l = limiter as unknown as LimiterInternals;
  const store = l._store;
  if (store && typeof store.yieldLoop === 'function') {
    store.yieldLoop = (t = 0) => new Promise((resolve) => (t > 0 ? setTimeout(resolve, t) : setImmediate(resolve)));
  }
  const original = l._run;
  if (typeof original !== 'function' || typeof l._clearGlobalState !== 'function' || typeof l._free !== 'function') return;
  // Upstream `_run`, except that a job due now starts on setImmediate instead of setTimeout(0).
  l._run = function (this: LimiterInternals, index: string, job: JobInternals, wait: number) {
    if (wait > 0 || job.options.expiration != null) return original.call(this, index, job, wait);
    job.doRun();
    const clearGlobalState = this._clearGlobalState!.bind(this, index);
    const run = this._run!.bind(this, index, job) as (wait: number) => unknown;
    const free = this._free!.bind(this, index, job);
    setImmediate(() => job.doExecute(this._limiter, clearGlobalState, run, free));
    // Bottleneck only ever passes `timeout` to clearTimeout (on start, a no-op by then, and in
    // stop(), which this project does not use), so there is no timer to record.
    this._scheduled![index] = { timeout: undefined, expiration: undefined, job };
    return this._scheduled![index];
  };
}
