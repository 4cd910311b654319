/**
 * Token-fair order (the virtual token counter), alone and inside the admission: the service two
 * backlogged tenants receive stays close whatever the length of their answers, weights share the
 * backend in proportion, an idle tenant banks no credit, and a waiting job is told where it stands.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FairQueue, serviceOf, type FairGrant } from '../src/limits/fair-queue.js';
import { BottleneckAdmission } from '../src/limits/limiter.js';
import { plans } from '../src/limits/plans.js';
import { BusyError, type WaitInfo } from '../src/ports/admission.js';
import type { TenantLimits } from '../src/ports/tenancy.js';

interface Running {
  tenant: string;
  grant: FairGrant;
}

/** Drives a FairQueue with jobs of known cost; finishes the oldest running job on each step. */
function simulate(opts: { slots: number; jobs: Record<string, number>; cost: Record<string, number>; weight?: Record<string, number>; steps: number }) {
  const running: Running[] = [];
  const queue = new FairQueue(() => opts.slots);
  const served: Record<string, number> = {};
  const left: Record<string, number> = { ...opts.jobs };
  const enqueue = (tenant: string) =>
    queue.enqueue({ tenantId: tenant, weight: opts.weight?.[tenant] ?? 1, estimate: 300, start: (grant) => running.push({ tenant, grant }) });
  for (const [tenant, n] of Object.entries(opts.jobs)) for (let i = 0; i < n; i++) enqueue(tenant);
  let bothBacklogged = 0;
  for (let step = 0; step < opts.steps && running.length > 0; step++) {
    const { tenant, grant } = running.shift()!;
    served[tenant] = (served[tenant] ?? 0) + opts.cost[tenant]!;
    left[tenant]! -= 1;
    if (Object.values(left).every((n) => n > opts.slots)) bothBacklogged = step;
    grant.settle(opts.cost[tenant]);
  }
  return { served, bothBacklogged, queue };
}

describe('FairQueue (virtual token counter)', () => {
  it('gives two backlogged tenants the same service when one asks for answers ten times longer', () => {
    // Service = prompt + 2 x output: short answers 100 + 2 x 50, long ones 100 + 2 x 500.
    const cost = { short: serviceOf({ promptTokens: 100, outputTokens: 50 }), long: serviceOf({ promptTokens: 100, outputTokens: 500 }) };
    const { served } = simulate({ slots: 2, jobs: { long: 60, short: 400 }, cost, steps: 300 });
    const ratio = served.long! / served.short!;
    // Request-count fairness would give the long tenant 5.5x the service here.
    expect(ratio).toBeGreaterThan(1 / 1.2);
    expect(ratio).toBeLessThan(1.2);
  });

  it('shares the backend in proportion to weights', () => {
    const { served } = simulate({ slots: 2, jobs: { gold: 400, free: 400 }, cost: { gold: 300, free: 300 }, weight: { gold: 3, free: 1 }, steps: 200 });
    const ratio = served.gold! / served.free!;
    expect(ratio).toBeGreaterThan(2.7);
    expect(ratio).toBeLessThan(3.3);
  });

  it('lets a returning tenant bank no credit from its idle time', () => {
    const order: string[] = [];
    const grants: FairGrant[] = [];
    const queue = new FairQueue(() => 1);
    const add = (t: string) => queue.enqueue({ tenantId: t, weight: 1, estimate: 100, start: (g) => (order.push(t), grants.push(g)) });
    for (let i = 0; i < 30; i++) add('busy');
    // 20 jobs of 'busy' are served while 'late' is away.
    for (let i = 0; i < 20; i++) grants.shift()!.settle(100);
    for (let i = 0; i < 5; i++) add('late');
    for (let i = 0; i < 10; i++) grants.shift()!.settle(100);
    const after = order.slice(21);
    // Alternating from its return on (not 5 'late' jobs in a row to "catch up").
    expect(after.filter((t) => t === 'late').length).toBe(5);
    const firstRun = after.indexOf('busy');
    expect(firstRun).toBeLessThanOrEqual(1);
    expect(queue.counterOf('late')).toBeGreaterThanOrEqual(queue.counterOf('busy') - 200);
  });

  it('never starts more entries than the capacity, and a larger capacity starts more at once', () => {
    let capacity = 1;
    const started: FairGrant[] = [];
    const queue = new FairQueue(() => capacity);
    for (let i = 0; i < 5; i++) queue.enqueue({ tenantId: `t${i % 2}`, weight: 1, estimate: 1, start: (g) => started.push(g) });
    expect(started).toHaveLength(1);
    capacity = 3;
    queue.dispatch();
    expect(started).toHaveLength(3);
    capacity = 0;
    started[0]!.settle();
    expect(queue.stats()).toEqual({ running: 2, waiting: 2 });
  });

  it('counts the questions ahead of a waiting one across tenants, and a cancelled one leaves', () => {
    const queue = new FairQueue(() => 1);
    queue.enqueue({ tenantId: 'a', weight: 1, estimate: 10, start: () => {} });
    const a2 = queue.enqueue({ tenantId: 'a', weight: 1, estimate: 10, start: () => {} });
    const b1 = queue.enqueue({ tenantId: 'b', weight: 1, estimate: 10, start: () => {} });
    const a3 = queue.enqueue({ tenantId: 'a', weight: 1, estimate: 10, start: () => {} });
    expect(b1.ahead()).toBe(0);
    expect(a2.ahead()).toBe(1);
    expect(a3.ahead()).toBe(2);
    expect(b1.cancel()).toBe(true);
    expect(b1.cancel()).toBe(false);
    expect(a3.ahead()).toBe(1);
    expect(queue.stats().waiting).toBe(2);
  });
});

function limitsOf(over: Partial<TenantLimits>): TenantLimits {
  return { ...plans.team!, requestsPerMinute: 1_000, maxQueued: 1_000, weight: 1, ...over };
}

const open: BottleneckAdmission[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

describe('token-fair admission', () => {
  it('serves two backlogged tenants equally by tokens, corrected with what each job really cost', async () => {
    const a = new BottleneckAdmission({ parallel: 2, queueMax: 1_000, queueWaitMs: 60_000 });
    open.push(a);
    const served: Record<string, number> = { long: 0, short: 0 };
    const waiting: Record<string, number> = { long: 40, short: 200 };
    let windowClosed = false;
    const job = (tenant: 'long' | 'short') =>
      a.run({ tenantId: tenant }, limitsOf({ maxConcurrent: 4 }), async (slot) => {
        waiting[tenant]! -= 1;
        // Both estimated alike at admission; the backend's counts differ tenfold.
        const actual = { promptTokens: 100, outputTokens: tenant === 'long' ? 500 : 50 };
        // Generation takes time in proportion to the output (the queue fills up meanwhile).
        await new Promise((r) => setTimeout(r, actual.outputTokens / 25));
        if (!windowClosed) served[tenant]! += serviceOf(actual);
        if (waiting.long! <= 2 || waiting.short! <= 2) windowClosed = true;
        slot.used(actual);
      }, { work: { promptTokens: 100, outputTokens: 200 } });
    const runs = [...Array.from({ length: 40 }, () => job('long')), ...Array.from({ length: 200 }, () => job('short'))];
    await Promise.all(runs);
    const ratio = served.long! / served.short!;
    expect(ratio).toBeGreaterThan(1 / 1.25);
    expect(ratio).toBeLessThan(1.25);
  });

  it('tells a waiting job how many are ahead, and a job over its per-minute budget when it will run', async () => {
    const a = new BottleneckAdmission({ parallel: 1, queueMax: 1_000, queueWaitMs: 60_000, reservoirRefreshIntervalMs: 2_000 });
    open.push(a);
    let release!: () => void;
    const blocker = a.run({ tenantId: 'x' }, limitsOf({}), () => new Promise<void>((r) => (release = r)));
    const waits: WaitInfo[] = [];
    const queued = [1, 2, 3].map(() => a.run({ tenantId: 'y' }, limitsOf({}), async () => {}, { onWait: (w) => waits.push(w) }));
    await waitFor(() => waits.some((w) => w.kind === 'slot'), 'a slot wait told');
    expect(waits.filter((w) => w.kind === 'slot').map((w) => (w as { ahead: number }).ahead).sort()).toEqual([0, 1, 2]);
    release();
    await Promise.all([blocker, ...queued]);

    // A 2-per-window tenant: the third question waits for the refill and is told about when.
    const rate = limitsOf({ requestsPerMinute: 2 });
    await a.run({ tenantId: 'z' }, rate, async () => {});
    await a.run({ tenantId: 'z' }, rate, async () => {});
    const told: WaitInfo[] = [];
    await a.run({ tenantId: 'z' }, rate, async () => {}, { onWait: (w) => told.push(w) });
    expect(told[0]).toMatchObject({ kind: 'rate', perMinute: 2 });
    expect((told[0] as { inMs: number }).inMs).toBeGreaterThan(0);
    expect((told[0] as { inMs: number }).inMs).toBeLessThanOrEqual(2_000);
  });

  it('refuses at once, saying when to retry, a job that would wait for its per-minute budget past the wait limit', async () => {
    const a = new BottleneckAdmission({ parallel: 1, queueMax: 1_000, queueWaitMs: 1_000, reservoirRefreshIntervalMs: 60_000 });
    open.push(a);
    const rate = limitsOf({ requestsPerMinute: 1 });
    await a.run({ tenantId: 'r' }, rate, async () => {});
    let ran = false;
    const refused = await a.run({ tenantId: 'r' }, rate, async () => void (ran = true)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BusyError);
    expect((refused as BusyError).reason).toBe('rate_limited');
    expect((refused as BusyError).retryInMs).toBeGreaterThan(1_000);
    expect((refused as BusyError).userText({ workspace: 'workspace' } as never)).toMatch(/workspace's 1 question a minute is used\. Please try again in ~\d+ s\./);
    expect(ran).toBe(false);
    expect(a.stats().queued).toBe(0);
  });
});

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
