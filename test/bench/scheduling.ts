/**
 * The scheduling bench (issue 9): how the backend slots are shared by work, not by requests.
 *
 *  token fairness  Two tenants backlogged at once, one whose answers are ten times longer:
 *                  the service each received (prompt + 2 x output tokens, counted in proportion
 *                  to each call's overlap with the window) while both were still backlogged.
 *  mixed lengths   Four backlogged tenants whose answers are 20, 50, 100 and 200 tokens:
 *                  Jain's index over their service.
 *  quiet tenants   The p95 admission wait of quiet tenants with a 20x neighbour over their wait
 *                  alone (fairness.ts), with every tenant on the team plan, then the enterprise plan.
 *  quota           30 questions at once against a 2,000-token daily quota: tokens metered past it.
 *
 * Answer lengths differ through each tenant's persona (max tokens = Ollama's num_predict, which
 * the fake honours); everything else is the real core against the fake Ollama in its own process.
 */
import { plans } from '../../src/limits/plans.js';
import { benchFairness, type FairnessResult } from './fairness.js';
import type { MessageRecord } from './harness.js';
import { setUpBench, type BenchRig } from './setup.js';
import { jainIndex, overlap, round } from './stats.js';
import { runAlone } from './alone.js';

export interface SchedulingBenchOptions {
  slots: number;
  tokenDelayMs: number;
  /** Seconds of each quiet-tenant run (baseline and with the neighbour). */
  fairnessSeconds: number;
  quietTenants: number;
  noisyFactor: number;
  seed: number;
  /** Backlog size: a tenant's questions per slot, in units of the longest answer. */
  backlog: number;
  log?: (line: string) => void;
}

export const defaultSchedulingOptions: SchedulingBenchOptions = { slots: 4, tokenDelayMs: 2, fairnessSeconds: 20, quietTenants: 20, noisyFactor: 20, seed: 7, backlog: 8 };

export interface SchedulingResult {
  tokenFairness: { lengths: [number, number]; service: [number, number]; ratio: number; jobsInWindow: [number, number] };
  mixed: { lengths: number[]; service: number[]; jain: number };
  quiet: Record<'team' | 'enterprise', Pick<FairnessResult, 'p95Ratio' | 'singleTenantP95Ratio' | 'ratePerQuietTenant' | 'noisyRate'> & { baselineP95Ms: number; noisyP95Ms: number }>;
  quota: { limit: number; questions: number; answered: number; refused: number; used: number; overshoot: number; largestAnswer: number };
}

/** The longest answer the fake gives; shorter ones come from a persona's max tokens. */
const LONGEST = 200;

export async function benchScheduling(options: Partial<SchedulingBenchOptions> = {}): Promise<SchedulingResult> {
  const o = { ...defaultSchedulingOptions, ...options };
  const log = o.log ?? (() => {});
  const tokenFairness = await backlogged(o, [LONGEST, LONGEST / 10], log);
  const mixed = await backlogged(o, [20, 50, 100, 200], log);
  const quiet = { team: await quietTenants(o, 'team', log), enterprise: await quietTenants(o, 'enterprise', log) };
  const quota = await quotaOvershoot(o, log);
  return {
    tokenFairness: {
      lengths: [tokenFairness.lengths[0]!, tokenFairness.lengths[1]!],
      service: [tokenFairness.service[0]!, tokenFairness.service[1]!],
      ratio: round(Math.max(...tokenFairness.service) / Math.max(1, Math.min(...tokenFairness.service)), 3),
      jobsInWindow: [tokenFairness.jobs[0]!, tokenFairness.jobs[1]!],
    },
    mixed: { lengths: mixed.lengths, service: mixed.service, jain: round(jainIndex(mixed.service), 4) },
    quiet,
    quota,
  };
}

/** Gives each tenant a persona whose answers are `tokens` long (the fake's longest needs none). */
async function answersOf(rig: BenchRig, tenant: string, tokens: number): Promise<void> {
  if (tokens >= LONGEST) return;
  const t = (await rig.core.tenants.resolve('console', tenant))!;
  await rig.core.personas.create(t, { name: `len${tokens}`, systemPrompt: 'You answer questions about the release process.', maxTokens: tokens }, 'bench');
  await rig.core.tenants.setDefaultPersona(t, `len${tokens}`);
}

/**
 * Tenants with answers of the given lengths all submit a backlog at once (the number of jobs in
 * inverse proportion to the length, so all would take about as long alone). The window runs from
 * when every tenant's first question reached the backend to when the first tenant's last one
 * did: in between, every tenant had work waiting.
 */
async function backlogged(o: SchedulingBenchOptions, lengths: number[], log: (line: string) => void) {
  const rig = await setUpBench({ tenants: lengths.length, slots: o.slots, tokenDelayMs: o.tokenDelayMs, tokensPerAnswer: LONGEST, maxConcurrentPerTenant: 4, minUpdateIntervalMs: 250 });
  try {
    for (let i = 0; i < lengths.length; i++) await answersOf(rig, rig.tenantNames[i]!, lengths[i]!);
    // Enough work that one call's worth per slot is small beside the window.
    const jobs = lengths.map((len) => Math.ceil((LONGEST / len) * o.backlog * o.slots));
    log(`backlog: answers of ${lengths.join(', ')} tokens, ${jobs.join(', ')} questions, ${o.slots} slots`);
    const phase = `backlog-${lengths.join('-')}`;
    // Sent in turn (a question of each tenant, then the next of each), so none is in line first.
    const sends: Promise<MessageRecord>[] = [];
    for (let k = 0; k < Math.max(...jobs); k++) rig.tenantNames.forEach((t, i) => void (k < jobs[i]! && sends.push(rig.sender.send(t, phase))));
    await Promise.all(sends);
    const records = rig.sender.phase(phase);
    const byTenant = rig.tenantNames.map((t) => records.filter((r) => r.tenant === t && r.backendStartAt !== undefined));
    // From when every tenant was being served (all had reached the backend's order) ...
    const start = Math.max(...byTenant.map((rs) => Math.min(...rs.map((r) => r.backendStartAt!))));
    const end = Math.min(...byTenant.map((rs) => Math.max(...rs.map((r) => r.backendStartAt!))));
    const service = byTenant.map((rs) => round(rs.reduce((sum, r) => sum + serviceIn(r, start, end), 0), 1));
    const inWindow = byTenant.map((rs) => rs.filter((r) => r.backendStartAt! < end).length);
    log(`  service while all were backlogged: ${service.join(' / ')} (jobs started: ${inWindow.join(' / ')})`);
    return { lengths, service, jobs: inWindow };
  } finally {
    await rig.close();
  }
}

/** A call's service (prompt + 2 x output), in proportion to the part of it inside [from, to]. */
function serviceIn(r: MessageRecord, from: number, to: number): number {
  const s = r.backendStartAt!;
  const e = r.backendEndAt ?? s;
  const whole = (r.promptTokens ?? 0) + 2 * (r.completionTokens ?? 0);
  if (e <= s) return s >= from && s <= to ? whole : 0;
  return (whole * overlap(s, e, from, to)) / (e - s);
}

async function quietTenants(o: SchedulingBenchOptions, plan: 'team' | 'enterprise', log: (line: string) => void) {
  const tokens = 20;
  const rig = await setUpBench({
    tenants: o.quietTenants + 1,
    slots: o.slots,
    tokenDelayMs: o.tokenDelayMs * 2,
    tokensPerAnswer: tokens,
    maxConcurrentPerTenant: plans[plan]!.maxConcurrent,
    minUpdateIntervalMs: 250,
    plan,
  });
  try {
    // Capacity from a short saturated burst, so the offered load is a known fraction of it.
    const burst = rig.tenantNames.flatMap((t) => [rig.sender.send(t, 'capacity'), rig.sender.send(t, 'capacity')]);
    const began = performance.now();
    await Promise.all(burst);
    const capacityPerSecond = burst.length / ((performance.now() - began) / 1000);
    const [noisy, ...quiet] = rig.tenantNames;
    log(`quiet tenants (${plan} plan): ${quiet.length} quiet, one at ${o.noisyFactor}x, ${o.fairnessSeconds} s per run, capacity ${round(capacityPerSecond, 1)}/s`);
    const r = await benchFairness(rig, {
      quietTenants: quiet,
      noisyTenant: noisy!,
      load: 0.6,
      capacityPerSecond,
      noisyFactor: o.noisyFactor,
      seconds: o.fairnessSeconds,
      seed: o.seed,
    });
    log(`  quiet p95 wait ${r.baseline.quietWaitMs.p95} ms alone, ${r.noisy.quietWaitMs.p95} ms with the neighbour: ${r.p95Ratio}x`);
    return {
      p95Ratio: r.p95Ratio,
      singleTenantP95Ratio: r.singleTenantP95Ratio,
      ratePerQuietTenant: r.ratePerQuietTenant,
      noisyRate: r.noisyRate,
      baselineP95Ms: r.baseline.quietWaitMs.p95,
      noisyP95Ms: r.noisy.quietWaitMs.p95,
    };
  } finally {
    await rig.close();
  }
}

async function quotaOvershoot(o: SchedulingBenchOptions, log: (line: string) => void) {
  const limit = 2_000;
  const questions = 30;
  const rig = await setUpBench({ tenants: 1, slots: o.slots, tokenDelayMs: o.tokenDelayMs, tokensPerAnswer: 60, maxConcurrentPerTenant: questions, minUpdateIntervalMs: 250 });
  try {
    const name = rig.tenantNames[0]!;
    await rig.core.tenants.setPlan('console', name, 'team', { tokensPerDay: limit, maxConcurrent: questions, maxQueued: questions, requestsPerMinute: 1_000 });
    await Promise.all(Array.from({ length: questions }, () => rig.sender.send(name, 'quota')));
    const records = rig.sender.phase('quota');
    const answered = records.filter((r) => r.outcome === 'answered');
    const tenant = (await rig.core.tenants.resolve('console', name))!;
    const used = (await rig.core.usage.today(tenant)).tokens;
    const largestAnswer = Math.max(...answered.map((r) => (r.promptTokens ?? 0) + (r.completionTokens ?? 0)));
    log(`quota: ${questions} questions at once against ${limit} tokens: ${answered.length} answered, ${used} tokens metered`);
    return { limit, questions, answered: answered.length, refused: records.length - answered.length, used, overshoot: Math.max(0, used - limit), largestAnswer };
  } finally {
    await rig.close();
  }
}

// Alone: npx tsx test/bench/scheduling.ts [seconds per quiet-tenant run]
runAlone(import.meta.url, ([seconds]) =>
  benchScheduling({ fairnessSeconds: Number(seconds ?? defaultSchedulingOptions.fairnessSeconds), log: (line) => console.log(line) }),
);
