/**
 * BottleneckAdmission in-process (local datastore): caps, queues, wait time-out, reservoir,
 * limit changes, fairness and utilisation. Tasks are held open by the test and released one by
 * one, so every assertion is about counts and order, never about elapsed time.
 */
import type { FairQueue } from '../src/limits/fair-queue.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BottleneckAdmission, type BottleneckAdmissionOptions } from '../src/limits/limiter.js';
import { plans } from '../src/limits/plans.js';
import { PrometheusMetrics } from '../src/metrics.js';
import { metricValue } from './helpers/metrics.js';
import { BusyError } from '../src/ports/admission.js';
import type { TenantLimits } from '../src/ports/tenancy.js';

function limitsOf(over: Partial<TenantLimits>): TenantLimits {
  return { ...plans.team!, requestsPerMinute: 1_000, maxQueued: 1_000, ...over };
}

/** Tasks that stay running until released; records starts, concurrency and peaks. */
class Probe {
  readonly starts: string[] = [];
  readonly activeByTenant = new Map<string, number>();
  readonly peakByTenant = new Map<string, number>();
  private readonly held: Array<{ label: string; release: () => void }> = [];
  active = 0;
  peak = 0;

  /** A task that runs until `release*` lets it go (or after `autoMs` when given). */
  task(tenant: string, label: string, autoMs?: number): () => Promise<string> {
    return async () => {
      this.starts.push(label);
      this.active += 1;
      this.peak = Math.max(this.peak, this.active);
      const n = (this.activeByTenant.get(tenant) ?? 0) + 1;
      this.activeByTenant.set(tenant, n);
      this.peakByTenant.set(tenant, Math.max(this.peakByTenant.get(tenant) ?? 0, n));
      await new Promise<void>((resolve) => {
        if (autoMs !== undefined) setTimeout(resolve, autoMs);
        else this.held.push({ label, release: resolve });
      });
      this.active -= 1;
      this.activeByTenant.set(tenant, (this.activeByTenant.get(tenant) ?? 1) - 1);
      return label;
    };
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Lets the longest-running held task finish. */
  releaseOldest(): void {
    this.held.shift()?.release();
  }

  releaseAll(): void {
    while (this.held.length) this.releaseOldest();
  }
}

/** Polls until `cond` holds; a liveness bound, not a timing assertion. */
async function waitFor(cond: () => boolean, what = 'condition', limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Releases held tasks one at a time (letting the limiter react between releases) until `total` ran. */
async function drain(probe: Probe, total: number): Promise<void> {
  while (probe.starts.length < total || probe.heldCount > 0) {
    await waitFor(() => probe.heldCount > 0, 'a running job');
    await new Promise((r) => setTimeout(r, 5));
    probe.releaseOldest();
  }
}

const open: BottleneckAdmission[] = [];
function admission(opts: Partial<BottleneckAdmissionOptions> = {}): BottleneckAdmission {
  const a = new BottleneckAdmission({ parallel: 4, queueMax: 1_000, queueWaitMs: 60_000, ...opts });
  open.push(a);
  return a;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

describe('BottleneckAdmission (in-process)', () => {
  it('keeps each tenant within its maxConcurrent', async () => {
    const a = admission({ parallel: 8 });
    const probe = new Probe();
    const runs = Array.from({ length: 10 }, (_, i) => a.run({ tenantId: 'acme' }, limitsOf({ maxConcurrent: 2 }), probe.task('acme', `j${i}`)));
    await drain(probe, 10);
    expect(await Promise.all(runs)).toEqual(Array.from({ length: 10 }, (_, i) => `j${i}`));
    expect(probe.peakByTenant.get('acme')).toBe(2);
  });

  it('keeps all tenants together within the backend parallel slots', async () => {
    const a = admission({ parallel: 3 });
    const probe = new Probe();
    const runs = [];
    for (let t = 0; t < 5; t++) {
      for (let i = 0; i < 6; i++) runs.push(a.run({ tenantId: `t${t}` }, limitsOf({ maxConcurrent: 2 }), probe.task(`t${t}`, `t${t}-${i}`)));
    }
    await drain(probe, 30);
    expect((await Promise.all(runs)).length).toBe(30);
    expect(probe.peak).toBe(3);
  });

  it("refuses a tenant's job when its queue is full, and never runs it", async () => {
    const metrics = new PrometheusMetrics();
    const a = admission({ metrics });
    const probe = new Probe();
    const limits = limitsOf({ maxConcurrent: 1, maxQueued: 2 });
    const running = a.run({ tenantId: 'acme' }, limits, probe.task('acme', 'running'));
    await waitFor(() => probe.starts.length === 1, 'first start');
    const queued = [a.run({ tenantId: 'acme' }, limits, probe.task('acme', 'q1')), a.run({ tenantId: 'acme' }, limits, probe.task('acme', 'q2'))];
    await waitFor(() => a.stats().queuedByTenant.get('acme') === 2, 'two queued');
    expect(await metricValue(metrics, 'bot_queue_depth', { tenant: 'acme' })).toBe(2);

    const refused = await a.run({ tenantId: 'acme' }, limits, probe.task('acme', 'refused')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BusyError);
    expect((refused as BusyError).reason).toBe('tenant_queue_full');
    // Another tenant is not affected by acme's full queue.
    expect(await a.run({ tenantId: 'other' }, limits, probe.task('other', 'other', 0))).toBe('other');

    for (let done = 0; done < 3; done++) {
      await waitFor(() => probe.heldCount === 1, `job ${done} running`);
      probe.releaseOldest();
    }
    expect(await Promise.all([running, ...queued])).toEqual(['running', 'q1', 'q2']);
    expect(probe.starts).not.toContain('refused');
    expect(await metricValue(metrics, 'bot_rejections_total', { reason: 'tenant_queue_full' })).toBe(1);
    expect(a.stats().queuedByTenant.size).toBe(0);
  });

  it('refuses any job when the total queue is full', async () => {
    const metrics = new PrometheusMetrics();
    const a = admission({ parallel: 1, queueMax: 3, metrics });
    const probe = new Probe();
    const limits = limitsOf({ maxConcurrent: 1 });
    const runs = [a.run({ tenantId: 't0' }, limits, probe.task('t0', 't0'))];
    await waitFor(() => probe.starts.length === 1, 'first start');
    for (const t of ['t1', 't2', 't3']) runs.push(a.run({ tenantId: t }, limits, probe.task(t, t)));
    expect(a.stats().queued).toBe(3);

    const refused = await a.run({ tenantId: 't4' }, limits, probe.task('t4', 't4')).catch((e: unknown) => e);
    expect((refused as BusyError).reason).toBe('global_queue_full');
    expect(await metricValue(metrics, 'bot_rejections_total', { reason: 'global_queue_full' })).toBe(1);

    for (let done = 0; done < 4; done++) {
      await waitFor(() => probe.heldCount === 1, `job ${done} running`);
      probe.releaseOldest();
    }
    expect(await Promise.all(runs)).toEqual(['t0', 't1', 't2', 't3']);
    expect(probe.starts).not.toContain('t4');
  });

  it.each([
    ['a global slot', 'quiet'],
    ['a tenant slot', 'busy'],
  ])('times out a job waiting for %s, and the task never runs', async (_label, waiting) => {
    const metrics = new PrometheusMetrics();
    const a = admission({ parallel: 1, queueWaitMs: 300, metrics });
    const probe = new Probe();
    const blocker = a.run({ tenantId: 'busy' }, limitsOf({ maxConcurrent: 1 }), probe.task('busy', 'blocker'));
    await waitFor(() => probe.starts.length === 1, 'blocker start');

    let onStartCalls = 0;
    const late = await a
      .run({ tenantId: waiting }, limitsOf({ maxConcurrent: 1 }), probe.task(waiting, 'late'), { onStart: () => (onStartCalls += 1) })
      .catch((e: unknown) => e);
    expect((late as BusyError).reason).toBe('wait_timeout');
    expect(a.stats().queued).toBe(0);

    // The queue moves on past the cancelled job: a later job of the same tenant runs.
    probe.releaseOldest();
    expect(await blocker).toBe('blocker');
    expect(await a.run({ tenantId: waiting }, limitsOf({ maxConcurrent: 1 }), probe.task(waiting, 'next', 0))).toBe('next');
    expect(probe.starts).toEqual(['blocker', 'next']);
    expect(onStartCalls).toBe(0);
    expect(await metricValue(metrics, 'bot_rejections_total', { reason: 'wait_timeout' })).toBe(1);
  });

  it('takes a job out of the queue at once when its caller aborts the wait, and never runs it', async () => {
    const a = admission({ parallel: 1 });
    const probe = new Probe();
    const blocker = a.run({ tenantId: 'busy' }, limitsOf({ maxConcurrent: 1 }), probe.task('busy', 'blocker'));
    await waitFor(() => probe.starts.length === 1, 'blocker start');
    const controller = new AbortController();
    const waiting = a.run({ tenantId: 'other' }, limitsOf({ maxConcurrent: 1 }), probe.task('other', 'gave up', 0), { signal: controller.signal });
    await waitFor(() => a.stats().queued === 1, 'queued');
    controller.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    expect(a.stats().queued).toBe(0);
    probe.releaseOldest();
    expect(await blocker).toBe('blocker');
    expect(await a.run({ tenantId: 'other' }, limitsOf({ maxConcurrent: 1 }), probe.task('other', 'next', 0))).toBe('next');
    expect(probe.starts).toEqual(['blocker', 'next']);
  });

  it('reports the wait to onStart and the queue-wait histogram', async () => {
    const metrics = new PrometheusMetrics();
    const a = admission({ parallel: 1, metrics });
    const probe = new Probe();
    const waits: number[] = [];
    const first = a.run({ tenantId: 'acme' }, limitsOf({}), probe.task('acme', 'first'), { onStart: (ms) => waits.push(ms) });
    const second = a.run({ tenantId: 'acme' }, limitsOf({}), probe.task('acme', 'second', 0), { onStart: (ms) => waits.push(ms) });
    await waitFor(() => probe.starts.length === 1, 'first start');
    expect(waits.length).toBe(1);
    probe.releaseOldest();
    await Promise.all([first, second]);
    expect(waits.length).toBe(2);
    expect(waits.every((ms) => ms >= 0)).toBe(true);
    expect(await metricValue(metrics, 'bot_queue_wait_seconds', { tenant: 'acme' })).toBeGreaterThanOrEqual(0);
    expect(await metricValue(metrics, 'bot_queue_wait_seconds', { tenant: 'acme' }, 'bot_queue_wait_seconds_count')).toBe(2);
  });

  it('holds the 4th request of a 3-per-minute tenant until the budget grows', async () => {
    const a = admission();
    const probe = new Probe();
    const limits = limitsOf({ requestsPerMinute: 3 });
    const runs = Array.from({ length: 4 }, (_, i) => a.run({ tenantId: 'acme' }, limits, probe.task('acme', `r${i}`, 0)));
    expect(await Promise.all(runs.slice(0, 3))).toEqual(['r0', 'r1', 'r2']);
    // Give the limiter several heartbeats to (wrongly) start the 4th.
    await new Promise((r) => setTimeout(r, 600));
    expect(probe.starts.length).toBe(3);
    expect(a.stats().queuedByTenant.get('acme')).toBe(1);

    // The operator moves the tenant to a bigger budget: the waiting request goes through.
    await a.run({ tenantId: 'acme' }, { ...limits, requestsPerMinute: 10 }, probe.task('acme', 'r4', 0));
    expect(await runs[3]).toBe('r3');
    expect(probe.starts.length).toBe(5);
  });

  it('refills the requests-per-minute budget each window', async () => {
    const a = admission({ reservoirRefreshIntervalMs: 200 });
    const probe = new Probe();
    const runs = Array.from({ length: 5 }, (_, i) => a.run({ tenantId: 'acme' }, limitsOf({ requestsPerMinute: 2 }), probe.task('acme', `r${i}`, 0)));
    expect(await Promise.all(runs)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('applies raised limits to a running tenant', async () => {
    const a = admission({ parallel: 8 });
    const probe = new Probe();
    const runs = Array.from({ length: 4 }, (_, i) => a.run({ tenantId: 'acme' }, limitsOf({ maxConcurrent: 1 }), probe.task('acme', `a${i}`)));
    await waitFor(() => probe.starts.length === 1 && a.stats().queued === 3, 'one running');
    expect(probe.peakByTenant.get('acme')).toBe(1);

    runs.push(a.run({ tenantId: 'acme' }, limitsOf({ maxConcurrent: 3 }), probe.task('acme', 'a4')));
    await waitFor(() => probe.activeByTenant.get('acme') === 3, 'three running');
    probe.releaseAll();
    await waitFor(() => probe.starts.length === 5, 'all started');
    probe.releaseAll();
    expect((await Promise.all(runs)).length).toBe(5);
    expect(probe.peakByTenant.get('acme')).toBe(3);
  });

  // Even a tenant whose cap covers its whole backlog (so it fills the fair queue) cannot make a
  // quiet tenant wait behind it: the quiet one re-enters at the noisy one's counter, and the
  // noisy one's every job raises its own.
  it.each([
    ['capped noisy tenant: quiet starts promptly', 2],
    ['uncapped noisy tenant: quiet still starts promptly', 40],
  ])('fairness with 20x the jobs from one tenant (%s)', async (_label, noisyCap) => {
    const parallel = 2;
    const a = admission({ parallel });
    const probe = new Probe();
    const runs = [];
    for (let i = 0; i < 40; i++) runs.push(a.run({ tenantId: 'noisy' }, limitsOf({ maxConcurrent: noisyCap }), probe.task('noisy', `noisy${i}`)));
    await waitFor(() => probe.starts.length === parallel, 'noisy fills the slots');
    // Let the noisy backlog move as far into the fair queue as its cap allows (peeking at the
    // private fair queue only to know when that has settled).
    const fair = (a as unknown as { fair: FairQueue }).fair;
    await waitFor(() => fair.stats().waiting === noisyCap - parallel, 'noisy backlog in the fair queue');
    for (let i = 0; i < 2; i++) runs.push(a.run({ tenantId: 'quiet' }, limitsOf({ maxConcurrent: 2 }), probe.task('quiet', `quiet${i}`)));

    await drain(probe, 42);
    expect((await Promise.all(runs)).length).toBe(42);
    const quietStarts = [probe.starts.indexOf('quiet0'), probe.starts.indexOf('quiet1')];
    // The quiet tenant's jobs start in the next free slots, whatever the noisy backlog.
    expect(quietStarts[0]).toBeLessThanOrEqual(parallel + 1);
    expect(quietStarts[1]).toBeLessThanOrEqual(parallel + 2);
  });

  it('keeps every backend slot busy while work is queued', async () => {
    const parallel = 3;
    const a = admission({ parallel });
    const probe = new Probe();
    const runs = [];
    for (const t of ['a', 'b', 'c']) {
      for (let i = 0; i < 8; i++) runs.push(a.run({ tenantId: t }, limitsOf({ maxConcurrent: 3 }), probe.task(t, `${t}${i}`)));
    }
    await waitFor(() => probe.starts.length === parallel, 'slots filled');
    let samples = 0;
    while (probe.starts.length < 24 || probe.heldCount > 0) {
      const startsBefore = probe.starts.length;
      const backlog = a.stats().queued > 0;
      probe.releaseOldest();
      if (backlog) {
        await waitFor(() => probe.starts.length === startsBefore + 1, 'the freed slot to be reused');
        if (a.stats().queued > 0 || probe.starts.length === 24) {
          expect(probe.active).toBe(parallel);
          samples += 1;
        }
      } else {
        await new Promise((r) => setTimeout(r, 0));
      }
    }
    expect(await Promise.all(runs)).toHaveLength(24);
    expect(samples).toBeGreaterThanOrEqual(20);
    expect(probe.peak).toBe(parallel);
  });

  it("passes a task's own error through and frees its slots", async () => {
    const a = admission({ parallel: 1 });
    const failure = new Error('backend exploded');
    await expect(a.run({ tenantId: 'acme' }, limitsOf({ maxConcurrent: 1 }), () => Promise.reject(failure))).rejects.toBe(failure);
    expect(await a.run({ tenantId: 'acme' }, limitsOf({ maxConcurrent: 1 }), async () => 'next')).toBe('next');
    expect(a.stats()).toEqual({ queuedByTenant: new Map(), running: 0, queued: 0 });
  });

  it('rejects queued jobs on close and refuses new ones', async () => {
    const a = admission({ parallel: 1 });
    const probe = new Probe();
    const running = a.run({ tenantId: 'acme' }, limitsOf({}), probe.task('acme', 'running'));
    await waitFor(() => probe.starts.length === 1, 'start');
    const queued = a.run({ tenantId: 'acme' }, limitsOf({}), probe.task('acme', 'queued')).catch((e: unknown) => e);
    const closed = a.close();
    expect(((await queued) as Error).message).toBe('admission is closed');
    probe.releaseAll();
    await closed;
    expect(await running).toBe('running');
    await expect(a.run({ tenantId: 'acme' }, limitsOf({}), probe.task('acme', 'after'))).rejects.toThrow('admission is closed');
    expect(probe.starts).toEqual(['running']);
  });
});
