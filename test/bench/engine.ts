/**
 * The engine benchmark: many tenants send questions through Engine.handle against a fake
 * Ollama with N slots and a per-token delay. Phases, in order:
 *
 *  light      A few closed-loop senders (fewer than N), so nobody waits for a slot. This is
 *             where orchestration overhead is measured honestly: under saturation the event
 *             loop is busy and every number gets inflated by scheduling delay.
 *  saturated  Every tenant submits all its messages at once. Throughput, backend slot
 *             utilisation while the admission queue is non-empty, and Jain's index of the
 *             backend time each tenant got while all of them were still backlogged.
 *  fairness   Quiet tenants as Poisson streams, with and without a tenant sending 20x as much
 *             (see fairness.ts).
 *
 * Overhead of one message = time around Engine.handle - admission wait - backend call (the
 * backend's own backendMs). It includes dedupe, tenant, settings, memory writes, quota check,
 * admission bookkeeping, persona/memory look-ups, prompt assembly, stream throttling, the
 * answer write and metering.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { benchFairness, type FairnessResult } from './fairness.js';
import { overheadMs, type MessageRecord } from './harness.js';
import { setUpBench, type BenchRig } from './setup.js';
import { epochNow } from './fake-ollama-process.js';
import { distribution, integrateSteps, jainIndex, overlap, round, type Distribution } from './stats.js';

export interface EngineBenchOptions {
  tenants: number;
  /** Backend slots N: OLLAMA_PARALLEL and the fake's own parallel limit. */
  slots: number;
  tokenDelayMs: number;
  tokensPerAnswer: number;
  maxConcurrentPerTenant: number;
  minUpdateIntervalMs: number;
  lightMessages: number;
  /** Closed-loop senders in the light phase (below `slots`, so no queueing). */
  lightConcurrency: number;
  /** Messages every tenant submits at once in the saturated phase. */
  messagesPerTenant: number;
  fairnessQuietTenants: number;
  fairnessLoad: number;
  fairnessSeconds: number;
  noisyFactor: number;
  seed: number;
  log?: (line: string) => void;
}

export const defaultEngineBenchOptions: EngineBenchOptions = {
  tenants: 200,
  slots: 4,
  tokenDelayMs: 4,
  tokensPerAnswer: 20,
  // The free plan lets a tenant run one request at a time; --max-concurrent 2 is the team plan (the default for new installs).
  maxConcurrentPerTenant: 1,
  minUpdateIntervalMs: 250,
  lightMessages: 300,
  lightConcurrency: 2,
  messagesPerTenant: 8,
  fairnessQuietTenants: 20,
  fairnessLoad: 0.6,
  // Shorter runs swing widely (quiet p95 baseline 51-219 ms over 15-s runs).
  fairnessSeconds: 45,
  noisyFactor: 20,
  seed: 42,
};

export interface PhaseTimings {
  messages: number;
  answered: number;
  overheadMs: Distribution;
  waitMs: Distribution;
  backendMs: Distribution;
  /** Where overhead goes: before admission, holding a slot before the backend call, after it. */
  breakdownMs: { beforeAdmission: Distribution; inSlotBeforeBackend: Distribution; afterBackend: Distribution };
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /**
   * Process CPU (user + system) per message: less sensitive to a busy machine than wall time.
   * Includes PGlite when embedded; the fake Ollama runs in its own process.
   */
  cpuMsPerMessage: number;
}

export interface SaturatedResult extends PhaseTimings {
  seconds: number;
  messagesPerSecond: number;
  /** The fake's own busy-slot time / (N * span), over the moments the admission queue was non-empty. */
  utilisationBackend: number;
  /** Exact: running backend calls (client side) integrated over the same queued interval / (N * span). */
  utilisationIntegrated: number;
  queuedSeconds: number;
  samples: number;
  jain: { index: number; tenants: number; backloggedSeconds: number };
}

export interface EngineBenchResult {
  database: 'postgres' | 'pglite';
  options: Omit<EngineBenchOptions, 'log'>;
  counts: { sent: number; answered: number; notAnswered: number; unmatchedTimings: number; backendCalls: number };
  light: PhaseTimings;
  saturated: SaturatedResult;
  fairness: FairnessResult;
  totalSeconds: number;
}

interface Measured {
  loop: ReturnType<typeof monitorEventLoopDelay>;
  cpuMs: number;
}

function phaseTimings(records: MessageRecord[], { loop, cpuMs }: Measured): PhaseTimings {
  const answered = records.filter((r) => r.outcome === 'answered' && r.timings);
  const pick = (f: (r: MessageRecord) => number | undefined) =>
    distribution(answered.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x)));
  return {
    messages: records.length,
    answered: answered.length,
    overheadMs: pick(overheadMs),
    waitMs: pick((r) => r.timings!.waitMs),
    backendMs: pick((r) => r.timings!.backendMs),
    breakdownMs: {
      beforeAdmission: pick((r) => (r.sinkStartAt ?? NaN) - r.sentAt),
      // Admission start is sink.start + wait (wait has 1 ms resolution: approximate).
      inSlotBeforeBackend: pick((r) => Math.max(0, (r.backendStartAt ?? NaN) - (r.sinkStartAt ?? NaN) - r.timings!.waitMs)),
      afterBackend: pick((r) => (r.doneAt ?? NaN) - (r.backendEndAt ?? NaN)),
    },
    eventLoopDelayMs: {
      p50: round(loop.percentile(50) / 1e6),
      p99: round(loop.percentile(99) / 1e6),
      max: round(loop.max / 1e6),
    },
    cpuMsPerMessage: round(cpuMs / Math.max(1, records.length), 3),
  };
}

async function measured(run: () => Promise<unknown>): Promise<Measured> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const cpu = process.cpuUsage();
  try {
    await run();
    const used = process.cpuUsage(cpu);
    return { loop, cpuMs: (used.user + used.system) / 1000 };
  } finally {
    loop.disable();
  }
}

async function lightPhase(rig: BenchRig, o: EngineBenchOptions): Promise<PhaseTimings> {
  let next = 0;
  const worker = async () => {
    while (next < o.lightMessages) {
      const i = next++;
      await rig.sender.send(rig.tenantNames[i % rig.tenantNames.length]!, 'light');
    }
  };
  const m = await measured(() => Promise.all(Array.from({ length: o.lightConcurrency }, worker)));
  return phaseTimings(rig.sender.phase('light'), m);
}

async function saturatedPhase(rig: BenchRig, o: EngineBenchOptions): Promise<SaturatedResult> {
  // Which moments had work waiting in admission (sampled here, cheaply); how many requests the
  // backend was generating at each moment comes exactly from the fake's own record.
  const samples: { t: number; epoch: number; queued: number }[] = [];
  const sample = () => samples.push({ t: performance.now(), epoch: epochNow(), queued: rig.core.admission.stats().queued });
  const t0 = performance.now();
  const timer = setInterval(sample, 2);
  const m = await measured(() =>
    Promise.all(rig.tenantNames.flatMap((t) => Array.from({ length: o.messagesPerTenant }, () => rig.sender.send(t, 'saturated')))),
  ).finally(() => clearInterval(timer));
  sample();
  const records = rig.sender.phase('saturated');
  const end = Math.max(...records.map((r) => r.doneAt ?? t0));

  // Utilisation: only intervals that began with work waiting in the admission queue count.
  const { processing } = await rig.fake.stats();
  const queuedRanges: [number, number][] = [];
  let span = 0;
  let queuedFrom = Number.POSITIVE_INFINITY;
  let queuedTo = Number.NEGATIVE_INFINITY;
  for (let i = 0; i + 1 < samples.length; i++) {
    const s = samples[i]!;
    if (s.queued <= 0) continue;
    const [from, to] = [s.epoch, samples[i + 1]!.epoch];
    const last = queuedRanges.at(-1);
    if (last && last[1] === from) last[1] = to;
    else queuedRanges.push([from, to]);
    span += o.slots * (to - from);
    queuedFrom = Math.min(queuedFrom, s.t);
    queuedTo = Math.max(queuedTo, samples[i + 1]!.t);
  }
  const slotsBusy = processing.map((c) => ({ t: c.t, value: Math.min(c.value, o.slots) }));
  const busy = queuedRanges.reduce((sum, [from, to]) => sum + integrateSteps(slotsBusy, from, to), 0);
  const integrated =
    queuedTo > queuedFrom ? integrateSteps(rig.backend.activeChanges, queuedFrom, queuedTo) / (o.slots * (queuedTo - queuedFrom)) : Number.NaN;

  // Jain: backend time each tenant got while every tenant had work in admission. That interval
  // starts when the last tenant's first message reached admission (sink.start comes just
  // before it; 1000 simultaneous arrivals take seconds to get through their first DB writes)
  // and ends when the first tenant's last message reached the backend.
  const byTenant = new Map<string, MessageRecord[]>();
  for (const r of records) byTenant.set(r.tenant, [...(byTenant.get(r.tenant) ?? []), r]);
  const groups = [...byTenant.values()];
  const backloggedFrom = Math.max(...groups.map((rs) => Math.min(...rs.map((r) => r.sinkStartAt ?? Number.POSITIVE_INFINITY))));
  const backloggedUntil = Math.min(...groups.map((rs) => Math.max(...rs.map((r) => r.backendStartAt ?? Number.POSITIVE_INFINITY))));
  const shares = groups.map((rs) =>
    rs.reduce((sum, r) => sum + overlap(r.backendStartAt ?? 0, r.backendEndAt ?? 0, backloggedFrom, backloggedUntil), 0),
  );
  const backlogged = backloggedUntil > backloggedFrom;
  const answered = records.filter((r) => r.outcome === 'answered').length;
  return {
    ...phaseTimings(records, m),
    seconds: round((end - t0) / 1000),
    messagesPerSecond: round(answered / ((end - t0) / 1000)),
    utilisationBackend: span > 0 ? round(busy / span, 4) : Number.NaN,
    utilisationIntegrated: round(integrated, 4),
    queuedSeconds: round(span / o.slots / 1000),
    samples: samples.length,
    // NaN when no interval had every tenant backlogged (too few messages per tenant).
    jain: {
      index: backlogged ? round(jainIndex(shares), 4) : Number.NaN,
      tenants: shares.length,
      backloggedSeconds: round(Math.max(0, backloggedUntil - backloggedFrom) / 1000),
    },
  };
}

export async function benchEngine(options: Partial<EngineBenchOptions> = {}): Promise<EngineBenchResult> {
  const o: EngineBenchOptions = { ...defaultEngineBenchOptions, ...options };
  const log = o.log ?? (() => {});
  if (o.fairnessQuietTenants + 1 > o.tenants) throw new Error('fairnessQuietTenants + 1 noisy tenant must fit in tenants');
  const started = performance.now();
  log(`setting up ${o.tenants} tenants, ${o.slots} slots, ${o.tokensPerAnswer} tokens x ${o.tokenDelayMs} ms`);
  const rig = await setUpBench(o);
  try {
    log(`database: ${rig.core.database.kind}`);
    // Warm-up: JIT, connection pool, prepared statements, per-tenant limiters.
    await Promise.all(rig.tenantNames.slice(0, Math.min(20, o.tenants)).map((t) => rig.sender.send(t, 'warmup')));

    log(`light phase: ${o.lightMessages} messages, ${o.lightConcurrency} at a time`);
    const light = await lightPhase(rig, o);
    log(`saturated phase: ${o.tenants} tenants x ${o.messagesPerTenant} messages at once`);
    const saturated = await saturatedPhase(rig, o);

    const quietTenants = rig.tenantNames.slice(0, o.fairnessQuietTenants);
    const noisyTenant = rig.tenantNames[o.fairnessQuietTenants]!;
    log(`fairness: ${quietTenants.length} quiet tenants at ${o.fairnessLoad} of capacity, ${o.fairnessSeconds} s, then with a ${o.noisyFactor}x tenant`);
    const fairness = await benchFairness(rig, {
      quietTenants,
      noisyTenant,
      load: o.fairnessLoad,
      capacityPerSecond: saturated.messagesPerSecond,
      noisyFactor: o.noisyFactor,
      seconds: o.fairnessSeconds,
      seed: o.seed,
    });

    const all = [...rig.sender.records.values()];
    const answered = all.filter((r) => r.outcome === 'answered').length;
    const { log: _log, ...recorded } = o;
    return {
      database: rig.core.database.kind,
      options: recorded,
      counts: {
        sent: all.length,
        answered,
        notAnswered: all.length - answered,
        unmatchedTimings: rig.sender.unmatchedTimings,
        backendCalls: (await rig.fake.stats()).chatRequests,
      },
      light,
      saturated,
      fairness,
      totalSeconds: round((performance.now() - started) / 1000),
    };
  } finally {
    await rig.close();
  }
}
