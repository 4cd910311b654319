/**
 * The backend pool bench (no database): the real BackendPool over fake Ollama servers on real
 * HTTP, with the real `ollama` client underneath.
 *
 * (a) Utilisation: three backends of unequal speed (token delays 2, 4 and 8 ms by default, two
 *     slots each) while more calls wait than there are slots. A backend's utilisation is the time
 *     its slots held a request (client side: from the request sent to the response's last byte)
 *     over slots x the window in which work queued (from the first request to the last one sent).
 * (b) Failover: one backend dies (connection refused, open streams dropped) a third of the way
 *     through a queued run. A user-visible error is a call that failed before any text reached
 *     its caller; streams cut after their first token are reported apart (the ask pipeline keeps
 *     their text and marks them cut off).
 */
import { BackendPool } from '../../src/llm/pool/pool.js';
import { LlmError } from '../../src/ports/llm.js';
import { startFakeOllama, type FakeOllama } from '../fakes/ollama.js';
import { figure, formatTable, type Figure } from './report.js';

export interface PoolBenchOptions {
  tokenDelaysMs: number[];
  slots: number;
  tokensPerAnswer: number;
  /** Calls in the utilisation run, all queued at once. */
  calls: number;
  /** Calls in the failover run. */
  failoverCalls: number;
  log?: (line: string) => void;
}

export const defaultPoolBenchOptions: PoolBenchOptions = { tokenDelaysMs: [2, 4, 8], slots: 2, tokensPerAnswer: 20, calls: 300, failoverCalls: 120 };

interface Interval {
  start: number;
  end: number;
}

export interface PoolBenchResult {
  options: Omit<PoolBenchOptions, 'log'>;
  utilisation: { windowMs: number; backends: { tokenDelayMs: number; calls: number; utilisation: number }[]; min: number };
  failover: { calls: number; succeeded: number; userVisibleErrors: number; cutMidStream: number; backendErrors: number; deadBackendCalls: number };
}

/** A fetch that records, per backend, when each chat request was sent and when its last byte arrived. */
function recordingFetch(busy: Map<string, Interval[]>): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const start = performance.now();
    const res = await globalThis.fetch(input, init);
    if (url.pathname !== '/api/chat' || !res.body) return res;
    const interval = { start, end: Infinity };
    const list = busy.get(url.origin) ?? (busy.set(url.origin, []), busy.get(url.origin)!);
    list.push(interval);
    const done = () => {
      interval.end = Math.min(interval.end, performance.now());
    };
    const body = res.body.pipeThrough(new TransformStream({ flush: done }));
    init?.signal?.addEventListener('abort', done, { once: true });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

const overlap = (i: Interval, from: number, to: number) => Math.max(0, Math.min(i.end, to) - Math.max(i.start, from));

async function fakes(o: PoolBenchOptions): Promise<FakeOllama[]> {
  const reply = Array.from({ length: o.tokensPerAnswer }, (_, i) => `t${i}`).join(' ');
  return Promise.all(
    o.tokenDelaysMs.map(async (tokenDelayMs) => {
      const f = await startFakeOllama({ models: ['llama3.2:3b'], tokenDelayMs, parallel: o.slots });
      f.reply = () => reply;
      return f;
    }),
  );
}

function poolOver(servers: FakeOllama[], o: PoolBenchOptions, fetchImpl?: typeof fetch): BackendPool {
  return new BackendPool({
    backends: servers.map((f) => ({ host: f.url, parallel: o.slots })),
    stallMs: 5_000,
    timeoutMs: 60_000,
    waitMs: 600_000,
    models: ['llama3.2:3b'],
    healthIntervalMs: 1_000,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

const chat = (pool: BackendPool, i: number, onText: () => void) =>
  pool.chat({ model: 'llama3.2:3b', messages: [{ role: 'user', content: `question ${i}` }], affinity: `conversation-${i % 40}` }, onText);

async function utilisationRun(o: PoolBenchOptions): Promise<PoolBenchResult['utilisation']> {
  const servers = await fakes(o);
  const busy = new Map<string, Interval[]>();
  const pool = poolOver(servers, o, recordingFetch(busy));
  try {
    await pool.health();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: o.calls }, (_, i) => chat(pool, i, () => undefined)));
    const all = [...busy.values()].flat();
    const from = Math.min(t0, ...all.map((i) => i.start));
    // Work queued until the last request was sent; after that slots empty one by one.
    const to = Math.max(...all.map((i) => i.start));
    const backends = servers.map((f, k) => {
      const intervals = busy.get(new URL(f.url).origin) ?? [];
      const held = intervals.reduce((n, i) => n + overlap(i, from, to), 0);
      return { tokenDelayMs: o.tokenDelaysMs[k]!, calls: intervals.length, utilisation: round3(held / (o.slots * (to - from))) };
    });
    return { windowMs: Math.round(to - from), backends, min: Math.min(...backends.map((b) => b.utilisation)) };
  } finally {
    pool.close();
    await Promise.all(servers.map((f) => f.close()));
  }
}

async function failoverRun(o: PoolBenchOptions): Promise<PoolBenchResult['failover']> {
  const servers = await fakes(o);
  const pool = poolOver(servers, o);
  const victim = servers[1]!;
  try {
    await pool.health();
    let finished = 0;
    let killed = false;
    const outcomes = await Promise.all(
      Array.from({ length: o.failoverCalls }, async (_, i) => {
        let started = false;
        try {
          await chat(pool, i, () => (started = true));
          return { ok: true, started };
        } catch (err) {
          if (!(err instanceof LlmError)) throw err;
          return { ok: false, started };
        } finally {
          if (++finished >= o.failoverCalls / 3 && !killed) {
            killed = true;
            void victim.down();
          }
        }
      }),
    );
    const snap = pool.snapshot();
    return {
      calls: o.failoverCalls,
      succeeded: outcomes.filter((x) => x.ok).length,
      userVisibleErrors: outcomes.filter((x) => !x.ok && !x.started).length,
      cutMidStream: outcomes.filter((x) => !x.ok && x.started).length,
      backendErrors: snap.reduce((n, b) => n + Object.values(b.errors).reduce((m, e) => m + (e ?? 0), 0), 0),
      deadBackendCalls: snap[1]!.calls,
    };
  } finally {
    pool.close();
    await Promise.all(servers.map((f) => f.close()));
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export async function benchPool(opts: Partial<PoolBenchOptions> = {}): Promise<PoolBenchResult> {
  const o = { ...defaultPoolBenchOptions, ...opts };
  const { log, ...options } = o;
  log?.(`utilisation: ${o.calls} calls queued at once over ${o.tokenDelaysMs.length} backends (token delays ${o.tokenDelaysMs.join(', ')} ms, ${o.slots} slots each)`);
  const utilisation = await utilisationRun(o);
  log?.(`failover: ${o.failoverCalls} calls; one backend dies after a third of them finished`);
  const failover = await failoverRun(o);
  return { options, utilisation, failover };
}

export function poolFigures(r: PoolBenchResult): Figure[] {
  return [
    ...r.utilisation.backends.map((b) => figure(`slot utilisation while queued, ${b.tokenDelayMs} ms/token backend (${b.calls} calls)`, b.utilisation, 'ratio', { op: '>=', value: 0.95 })),
    figure('window while work queued', r.utilisation.windowMs, 'ms'),
    figure('failover: user-visible errors (failed before first token)', r.failover.userVisibleErrors, 'calls', { op: '<=', value: 0 }),
    figure('failover: streams cut mid-answer (text kept, marked cut off)', r.failover.cutMidStream, 'calls'),
    figure('failover: calls answered', r.failover.succeeded, `of ${r.failover.calls}`),
    figure('failover: failed backend calls (retried before first token, or cut)', r.failover.backendErrors, 'calls'),
  ];
}

/** The bench's pool section (run.ts): prints the figures; a failure is reported, not fatal. */
export async function runPoolSection(
  skip: boolean,
  print: (line: string) => void,
): Promise<{ figures: Figure[]; result: PoolBenchResult } | { skipped: true } | { failed: string }> {
  print('\npool bench (3 fake Ollama backends of unequal speed, the real BackendPool, no database)');
  if (skip) {
    print('  skipped: --skip-pool');
    return { skipped: true };
  }
  try {
    const result = await benchPool({ log: (line) => print(`  ${line}`) });
    const figures = poolFigures(result);
    print('');
    print(formatTable('pool', figures));
    return { figures, result };
  } catch (err) {
    const note = err instanceof Error ? (err.stack ?? err.message) : String(err);
    print(`  failed: ${note}`);
    return { failed: note };
  }
}
