/** Bottleneck's 0 ms timers (clamped to 1 ms by Node) are gone from the in-process path. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BottleneckAdmission } from '../src/limits/limiter.js';
import { plans } from '../src/limits/plans.js';

describe('in-process admission without timer clamps', () => {
  afterEach(() => vi.restoreAllMocks());

  it('schedules no zero-delay timers while jobs pass both limiters', async () => {
    const admission = new BottleneckAdmission({ parallel: 2, queueMax: 100, queueWaitMs: 60_000 });
    // Warm the tenant limiters up first (creation may use timers of its own).
    await Promise.all(['a', 'b'].map((t) => admission.run({ tenantId: t }, plans.team!, async () => t)));
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => admission.run({ tenantId: i % 2 ? 'a' : 'b' }, plans.team!, async () => i)),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const zeroDelay = spy.mock.calls.filter(([, ms]) => !ms);
    expect(zeroDelay).toHaveLength(0);
    // The wait time-out timers (QUEUE_WAIT_MS) are still there: one per job.
    expect(spy.mock.calls.filter(([, ms]) => ms === 60_000)).toHaveLength(20);
    await admission.close();
  });
});
