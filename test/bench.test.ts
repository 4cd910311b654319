/**
 * Smoke test of the engine benchmark: a tiny configuration runs end to end through the real
 * core (fake Ollama over HTTP, real database) and its result is internally consistent.
 * No timing assertions: the machine's speed is not what this checks.
 */
import { describe, expect, it } from 'vitest';
import { benchEngine } from './bench/engine.js';
import { engineFigures, formatTable, ingestFigures, schedulingFigures } from './bench/report.js';
import { benchScheduling } from './bench/scheduling.js';
import { benchIngest } from './bench/ingest.js';
import { benchExport } from './bench/export.js';
import { benchPool, poolFigures } from './bench/pool.js';
import { integrateSteps, jainIndex, percentile } from './bench/stats.js';

describe('bench statistics', () => {
  it('computes nearest-rank percentiles, Jain and step integrals', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(jainIndex([2, 2, 2, 2])).toBe(1);
    expect(jainIndex([1, 0, 0, 0])).toBe(0.25);
    // 1 running over [0,10), 2 over [10,20), 0 after: integral over [5, 25] = 5 + 20 = 25.
    const steps = [
      { t: 0, value: 1 },
      { t: 10, value: 2 },
      { t: 20, value: 0 },
    ];
    expect(integrateSteps(steps, 5, 25)).toBe(25);
  });
});

describe('engine bench (tiny)', () => {
  it('sends every message through the engine and reports sane figures', { timeout: 120_000 }, async () => {
    const o = {
      tenants: 10,
      slots: 2,
      tokenDelayMs: 1,
      tokensPerAnswer: 5,
      lightMessages: 8,
      lightConcurrency: 1,
      messagesPerTenant: 3,
      fairnessQuietTenants: 4,
      fairnessSeconds: 1,
    };
    const r = await benchEngine(o);

    // Counts add up: warm-up (one per tenant, up to 20) + light + saturated + both fairness runs.
    const warmup = Math.min(20, o.tenants);
    const saturated = o.tenants * o.messagesPerTenant;
    expect(r.counts.sent).toBe(warmup + o.lightMessages + saturated + r.fairness.baseline.sent + r.fairness.noisy.sent);
    expect(r.counts.answered + r.counts.notAnswered).toBe(r.counts.sent);
    expect(r.counts.notAnswered).toBe(0);
    expect(r.counts.unmatchedTimings).toBe(0);
    expect(r.counts.backendCalls).toBe(r.counts.answered);
    expect(r.light.answered).toBe(o.lightMessages);
    expect(r.saturated.answered).toBe(saturated);
    expect(r.light.overheadMs.n).toBe(o.lightMessages);

    // Shapes: utilisation is a fraction, Jain in (0, 1], overhead and waits are non-negative.
    for (const u of [r.saturated.utilisationBackend, r.saturated.utilisationIntegrated]) {
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThanOrEqual(1);
    }
    expect(r.saturated.jain.index).toBeGreaterThan(0);
    expect(r.saturated.jain.index).toBeLessThanOrEqual(1);
    expect(r.saturated.jain.tenants).toBe(o.tenants);
    expect(r.light.overheadMs.p50).toBeGreaterThanOrEqual(0);
    expect(r.light.overheadMs.p99).toBeGreaterThanOrEqual(r.light.overheadMs.p50);
    expect(r.saturated.waitMs.p50).toBeGreaterThanOrEqual(0);
    expect(r.saturated.messagesPerSecond).toBeGreaterThan(0);
    // Both fairness runs replay the same seeded quiet arrivals; the difference is the noisy
    // tenant's messages, every one of which was answered.
    expect(r.fairness.noisy.sent - r.fairness.baseline.sent).toBe(r.fairness.noisy.noisyAnswered);

    const figures = engineFigures(r);
    expect(figures.every((f) => ['PASS', 'MISS', 'info'].includes(f.verdict))).toBe(true);
    expect(figures.filter((f) => f.target).length).toBeGreaterThanOrEqual(2);
    expect(formatTable('engine', figures)).toContain('slot utilisation');
  });
});

describe('ingest bench (tiny)', () => {
  it('sends signed mentions through the service process and accounts for every one', { timeout: 180_000 }, async () => {
    const r = await benchIngest({ workspaces: 2, rate: 20, seconds: 1, slots: 2 });
    expect(r.sent).toBe(20);
    // Every delivery is accounted for once: answered, refused with a reply, or lost.
    expect(r.answered + r.refusedWithReply + r.lost).toBe(r.sent);
    expect(r.lost).toBe(0);
    expect(r.ackMs.p50).toBeGreaterThan(0);
    expect(r.ackMs.p99).toBeGreaterThanOrEqual(r.ackMs.p50);
    const figures = ingestFigures(r);
    expect(formatTable('ingest', figures)).toContain('ack p99');
  });
});

describe('export bench (tiny)', () => {
  it('exports every message of the large tenant and none of the small one', { timeout: 120_000 }, async () => {
    const r = (await benchExport({ messages: 3000, otherMessages: 700, log: () => undefined })) as Record<string, any>;
    // The tenant row, its messages; the small tenant's export is its own.
    expect(r.records).toBe(3001);
    expect(r.smallTenant.records).toBe(701);
    expect(r.megabytesWritten).toBeGreaterThan(r.smallTenant.megabytesWritten);
    // At this size the planner may sort instead of walking the index; the full bench reports its plan.
    expect(r.pagePlan).toMatch(/^Limit/);
  });
});

describe('scheduling bench (tiny)', () => {
  it('measures service by tokens, the quiet tenants per plan and the quota, with consistent figures', { timeout: 240_000 }, async () => {
    const r = await benchScheduling({ slots: 2, fairnessSeconds: 1, quietTenants: 3, backlog: 2 });
    expect(r.tokenFairness.service.every((s) => s > 0)).toBe(true);
    expect(r.tokenFairness.ratio).toBeGreaterThanOrEqual(1);
    expect(r.mixed.jain).toBeGreaterThan(0);
    expect(r.mixed.jain).toBeLessThanOrEqual(1);
    for (const plan of ['team', 'enterprise'] as const) expect(r.quiet[plan].baselineP95Ms).toBeGreaterThanOrEqual(0);
    // Every question was answered or refused; the tokens metered are those of the answered ones.
    expect(r.quota.answered + r.quota.refused).toBe(r.quota.questions);
    expect(r.quota.answered).toBeGreaterThan(0);
    expect(r.quota.overshoot).toBeLessThanOrEqual(r.quota.largestAnswer);
    expect(formatTable('scheduling', schedulingFigures(r))).toContain('token fairness');
  });
});

describe('pool bench (tiny)', () => {
  it('measures each backend while work queues and accounts for every call when one dies', { timeout: 60_000 }, async () => {
    const r = await benchPool({ calls: 30, failoverCalls: 24, tokensPerAnswer: 5, tokenDelaysMs: [1, 2, 3] });
    expect(r.utilisation.backends.map((b) => b.calls).reduce((a, b) => a + b, 0)).toBe(30);
    for (const b of r.utilisation.backends) {
      expect(b.utilisation).toBeGreaterThan(0);
      expect(b.utilisation).toBeLessThanOrEqual(1);
    }
    expect(r.failover.succeeded + r.failover.userVisibleErrors + r.failover.cutMidStream).toBe(24);
    expect(r.failover.userVisibleErrors).toBe(0);
    expect(formatTable('pool', poolFigures(r))).toContain('user-visible errors');
  });
});
