/**
 * Fairness under a noisy neighbour. Quiet tenants send questions as independent Poisson
 * streams (same seeds in both runs, so the arrivals are identical); the offered load is a
 * fraction of the capacity measured in the saturated phase. The run is repeated with one more
 * tenant sending `noisyFactor` times a quiet tenant's rate. What is compared is the quiet
 * tenants' admission wait (time from asking for a slot to getting one), pooled over all quiet
 * tenants for a usable p95, and also for the first quiet tenant alone.
 */
import type { BenchRig } from './setup.js';
import type { MessageRecord } from './harness.js';
import { distribution, poissonGapMs, round, seededRandom, type Distribution } from './stats.js';

export interface FairnessOptions {
  quietTenants: string[];
  noisyTenant: string;
  /** Messages per second the whole quiet group offers, as a fraction of capacity. */
  load: number;
  capacityPerSecond: number;
  noisyFactor: number;
  seconds: number;
  seed: number;
}

export interface FairnessRun {
  sent: number;
  quietWaitMs: Distribution;
  /** The first quiet tenant alone (few samples: read with care). */
  singleQuietWaitMs: Distribution;
  noisyAnswered: number;
  noisyWaitMs: Distribution;
  drainSeconds: number;
}

export interface FairnessResult {
  ratePerQuietTenant: number;
  noisyRate: number;
  quietTenants: number;
  seconds: number;
  baseline: FairnessRun;
  noisy: FairnessRun;
  /** noisy.quietWaitMs.p95 / baseline.quietWaitMs.p95 */
  p95Ratio: number;
  singleTenantP95Ratio: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Sends from `tenant` at Poisson times for `seconds`; resolves when every answer is in. */
async function poissonSender(rig: BenchRig, tenant: string, phase: string, rate: number, seconds: number, seed: number): Promise<void> {
  const random = seededRandom(seed);
  const end = performance.now() + seconds * 1000;
  const inFlight: Promise<MessageRecord>[] = [];
  // Arrival times are computed from the schedule, not from when the timer fired, so a busy
  // event loop delays a send but does not thin out the offered load.
  let at = performance.now() + poissonGapMs(random, rate);
  while (at < end) {
    const delay = at - performance.now();
    if (delay > 0) await sleep(delay);
    inFlight.push(rig.sender.send(tenant, phase));
    at += poissonGapMs(random, rate);
  }
  await Promise.all(inFlight);
}

async function runOnce(rig: BenchRig, opts: FairnessOptions, phase: string, withNoisy: boolean, rate: number): Promise<FairnessRun> {
  const started = performance.now();
  const senders = opts.quietTenants.map((t, i) => poissonSender(rig, t, phase, rate, opts.seconds, opts.seed + i));
  if (withNoisy) senders.push(poissonSender(rig, opts.noisyTenant, phase, rate * opts.noisyFactor, opts.seconds, opts.seed + 10_000));
  await Promise.all(senders);
  const drainSeconds = Math.max(0, (performance.now() - started) / 1000 - opts.seconds);
  const records = rig.sender.phase(phase);
  const waits = (rs: MessageRecord[]) => rs.flatMap((r) => (r.timings ? [r.timings.waitMs] : []));
  const quiet = records.filter((r) => r.tenant !== opts.noisyTenant);
  const noisy = records.filter((r) => r.tenant === opts.noisyTenant);
  return {
    sent: records.length,
    quietWaitMs: distribution(waits(quiet)),
    singleQuietWaitMs: distribution(waits(quiet.filter((r) => r.tenant === opts.quietTenants[0]))),
    noisyAnswered: noisy.filter((r) => r.outcome === 'answered').length,
    noisyWaitMs: distribution(waits(noisy)),
    drainSeconds: round(drainSeconds),
  };
}

/** A ratio that stays meaningful when the baseline wait is zero (an idle backend). */
function ratio(noisy: number, baseline: number): number {
  if (baseline > 0) return round(noisy / baseline);
  return noisy > 0 ? Number.POSITIVE_INFINITY : 1;
}

export async function benchFairness(rig: BenchRig, opts: FairnessOptions): Promise<FairnessResult> {
  const rate = (opts.load * opts.capacityPerSecond) / opts.quietTenants.length;
  const baseline = await runOnce(rig, opts, 'fairness-baseline', false, rate);
  const noisy = await runOnce(rig, opts, 'fairness-noisy', true, rate);
  return {
    ratePerQuietTenant: round(rate, 3),
    noisyRate: round(rate * opts.noisyFactor, 3),
    quietTenants: opts.quietTenants.length,
    seconds: opts.seconds,
    baseline,
    noisy,
    p95Ratio: ratio(noisy.quietWaitMs.p95, baseline.quietWaitMs.p95),
    singleTenantP95Ratio: ratio(noisy.singleQuietWaitMs.p95, baseline.singleQuietWaitMs.p95),
  };
}
