/** A backend pool over several fake Ollama servers (real HTTP, the real `ollama` client underneath). */
import { BackendPool, type BackendPoolOptions } from '../../src/llm/pool/pool.js';
import { PrometheusMetrics } from '../../src/metrics.js';
import { LlmError } from '../../src/ports/llm.js';
import { startFakeOllama, type FakeOllama, type FakeOllamaOptions } from '../fakes/ollama.js';

export const MODEL = 'llama3.2:3b';
export const EMBED = 'nomic-embed-text';

export interface PoolWorld {
  fakes: FakeOllama[];
  pool: BackendPool;
  metrics: PrometheusMetrics;
  close(): Promise<void>;
}

/** One fake per entry of `each` (its options), a pool over them with `slots[i]` slots each (default 2). */
export async function startPool(
  each: FakeOllamaOptions[],
  o: Partial<BackendPoolOptions> & { slots?: number[] } = {},
): Promise<PoolWorld> {
  const fakes = await Promise.all(each.map((f) => startFakeOllama({ models: [MODEL, EMBED], ...f })));
  const metrics = new PrometheusMetrics();
  const pool = new BackendPool({
    backends: fakes.map((f, i) => ({ host: f.url, parallel: o.slots?.[i] ?? 2 })),
    stallMs: 2_000,
    timeoutMs: 10_000,
    waitMs: 5_000,
    models: [MODEL, EMBED],
    healthIntervalMs: 100,
    cooldown: { minMs: 100, maxMs: 1_000 },
    metrics,
    ...o,
  });
  return {
    fakes,
    pool,
    metrics,
    async close() {
      pool.close();
      await Promise.all(fakes.map((f) => f.close()));
    },
  };
}

export interface Outcome {
  ok: boolean;
  /** Text reached the caller before the call ended. */
  started: boolean;
  error?: LlmError;
  text: string;
}

/** A chat call that records whether text reached the caller, and how it ended. */
export async function ask(pool: BackendPool, question: string, extra: { affinity?: string; signal?: AbortSignal } = {}): Promise<Outcome> {
  let text = '';
  try {
    await pool.chat({ model: MODEL, messages: [{ role: 'user', content: question }], ...extra }, (d) => (text += d));
    return { ok: true, started: text.length > 0, text };
  } catch (err) {
    if (!(err instanceof LlmError)) throw err;
    return { ok: false, started: text.length > 0, error: err, text };
  }
}

/** A reply of `n` words (one streamed piece each). */
export const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

export const until = async (cond: () => boolean, what: string, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};
