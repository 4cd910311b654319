/**
 * OllamaBackend against the fake Ollama server, through the real `ollama` client and real HTTP.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OllamaBackend, type OllamaBackendOptions } from '../src/llm/ollama-backend.js';
import { PrometheusMetrics } from '../src/metrics.js';
import { metricValue } from './helpers/metrics.js';
import { fakeEmbedding, startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import type { ChatMessage } from '../src/ports/llm.js';
import { failure } from './helpers/llm-failure.js';

const MODEL = 'llama3.2:3b';
const EMBED = 'nomic-embed-text';

let fake: FakeOllama;
let metrics: PrometheusMetrics;

beforeEach(async () => {
  fake = await startFakeOllama({ models: [MODEL, EMBED] });
  metrics = new PrometheusMetrics();
});
afterEach(async () => {
  await fake.close();
});

function backend(opts: Partial<OllamaBackendOptions> = {}): OllamaBackend {
  return new OllamaBackend({ host: fake.url, stallMs: 2_000, timeoutMs: 10_000, metrics, ...opts });
}

async function errorCount(kind: string): Promise<number> {
  return metricValue(metrics, 'bot_llm_errors_total', { kind });
}

const ask = (content: string): ChatMessage[] => [
  { role: 'system', content: 'You are a helpful bot.' },
  { role: 'user', content },
];

const words = (msgs: ChatMessage[]) => msgs.reduce((n, m) => n + m.content.split(/\s+/).filter(Boolean).length, 0);

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('chat', () => {
  it('streams pieces in order and reports the backend counts', async () => {
    fake.tokenDelayMs = 2;
    const messages = ask('what is the capital of France');
    const pieces: string[] = [];
    const result = await backend().chat({ model: MODEL, messages, temperature: 0.2 }, (p) => pieces.push(p));

    expect(result.text).toBe('Answer to: what is the capital of France');
    expect(pieces.join('')).toBe(result.text);
    expect(pieces.length).toBeGreaterThan(1);
    expect(result.completionTokens).toBe(pieces.length);
    expect(result.promptTokens).toBe(words(messages));
    expect(result.backendMs).toBeGreaterThan(0);

    const [sent] = fake.chatRequests();
    expect(sent!.body).toMatchObject({ model: MODEL, stream: true, messages, options: { temperature: 0.2 } });
    expect(await metricValue(metrics, 'bot_llm_latency_seconds', { model: MODEL }, 'bot_llm_latency_seconds_count')).toBe(1);
  });

  it('uses scripted replies and honours maxTokens as num_predict', async () => {
    fake.queueReply('one two three four five six');
    const pieces: string[] = [];
    const result = await backend().chat({ model: MODEL, messages: ask('count'), maxTokens: 3 }, (p) => pieces.push(p));
    expect(result.text).toBe('one two three');
    expect(result.completionTokens).toBe(3);
    expect(fake.chatRequests()[0]!.body.options).toEqual({ num_predict: 3 });

    fake.reply = (req) => `echo ${req.messages.length}`;
    const second = await backend().chat({ model: MODEL, messages: ask('again') }, () => {});
    expect(second.text).toBe('echo 2');
  });

  it('maps a missing model to unknown_model', async () => {
    const err = await failure(backend().chat({ model: 'nope:1b', messages: ask('hi') }, () => {}));
    expect(err.kind).toBe('unknown_model');
    expect(err.message).toContain('nope:1b');
    expect(await errorCount('unknown_model')).toBe(1);
  });

  it('maps 503 and 429 to overloaded, 500 to failed', async () => {
    fake.failNext({ status: 503, body: { error: 'server busy, please try again.  maximum pending requests exceeded' } });
    expect((await failure(backend().chat({ model: MODEL, messages: ask('hi') }, () => {}))).kind).toBe('overloaded');
    fake.failNext({ status: 429 });
    expect((await failure(backend().chat({ model: MODEL, messages: ask('hi') }, () => {}))).kind).toBe('overloaded');
    fake.failNext({ status: 500, body: { error: 'llama runner process has terminated' } });
    expect((await failure(backend().chat({ model: MODEL, messages: ask('hi') }, () => {}))).kind).toBe('failed');
    expect(await errorCount('overloaded')).toBe(2);
    expect(await errorCount('failed')).toBe(1);
  });

  it('maps a refused or reset connection to unreachable, and recovers when the server is back', async () => {
    const llm = backend();
    await fake.down();
    expect((await failure(llm.chat({ model: MODEL, messages: ask('hi') }, () => {}))).kind).toBe('unreachable');
    await fake.up();
    fake.failNext({ reset: true });
    expect((await failure(llm.chat({ model: MODEL, messages: ask('hi') }, () => {}))).kind).toBe('unreachable');
    const ok = await llm.chat({ model: MODEL, messages: ask('back') }, () => {});
    expect(ok.text).toBe('Answer to: back');
    expect(await errorCount('unreachable')).toBe(2);
  });

  it('gives up on a stream that goes silent mid-answer and closes the request', async () => {
    fake.queueReply('alpha beta gamma delta epsilon');
    fake.stallAfter(2);
    const pieces: string[] = [];
    const err = await failure(backend({ stallMs: 200 }).chat({ model: MODEL, messages: ask('hi') }, (p) => pieces.push(p)));
    expect(err.kind).toBe('stalled');
    expect(pieces).toEqual(['alpha', ' beta']);
    // The fake sees the client hang up: nothing is left open.
    await vi.waitFor(() => expect(fake.inFlight).toBe(0));
    expect(await errorCount('stalled')).toBe(1);
  });

  it('gives up when no byte arrives at all', async () => {
    fake.delayFirstByte(60_000);
    const err = await failure(backend({ stallMs: 200 }).chat({ model: MODEL, messages: ask('hi') }, () => {}));
    expect(err.kind).toBe('stalled');
  });

  it('stops a request that runs past timeoutMs even while pieces keep coming', async () => {
    fake.tokenDelayMs = 20;
    fake.queueReply(Array.from({ length: 500 }, (_, i) => `w${i}`).join(' '));
    const pieces: string[] = [];
    const err = await failure(backend({ stallMs: 5_000, timeoutMs: 300 }).chat({ model: MODEL, messages: ask('hi') }, (p) => pieces.push(p)));
    expect(err.kind).toBe('timeout');
    expect(pieces.length).toBeGreaterThan(0);
    expect(pieces.length).toBeLessThan(500);
    await vi.waitFor(() => expect(fake.inFlight).toBe(0));
  });

  it("stops when the caller's signal aborts", async () => {
    fake.tokenDelayMs = 10;
    fake.queueReply(Array.from({ length: 200 }, (_, i) => `w${i}`).join(' '));
    const controller = new AbortController();
    const pieces: string[] = [];
    const err = await failure(
      backend().chat({ model: MODEL, messages: ask('hi'), signal: controller.signal }, (p) => {
        pieces.push(p);
        if (pieces.length === 3) controller.abort();
      }),
    );
    expect(err.kind).toBe('aborted');
    expect(pieces.length).toBeLessThan(200);
    await vi.waitFor(() => expect(fake.inFlight).toBe(0));

    const before = fake.requests.length;
    const again = await failure(backend().chat({ model: MODEL, messages: ask('hi'), signal: controller.signal }, () => {}));
    expect(again.kind).toBe('aborted');
    expect(fake.requests.length).toBe(before);
  });

  it("rethrows the caller's own callback error untouched and closes the stream", async () => {
    fake.tokenDelayMs = 5;
    fake.queueReply('a b c d e f g h');
    const boom = new Error('sink broke');
    await expect(
      backend().chat({ model: MODEL, messages: ask('hi') }, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await vi.waitFor(() => expect(fake.inFlight).toBe(0));
  });
});

describe('embed', () => {
  it('sends inputs in batches and returns one vector per input, in order', async () => {
    const inputs = Array.from({ length: 150 }, (_, i) => `document number ${i} about topic ${i % 7}`);
    const vectors = await backend({ embedBatchSize: 64 }).embed(EMBED, inputs);
    expect(vectors).toHaveLength(150);
    expect(fake.embedRequests().map((r) => r.body.input.length)).toEqual([64, 64, 22]);
    expect(fake.embedRequests()[2]!.body.input[0]).toBe(inputs[128]);
    expect(vectors[128]).toEqual(fakeEmbedding(inputs[128]!, 256));
  });

  it('is deterministic and similar for texts that share words', async () => {
    const llm = backend();
    const [a, b, c] = await llm.embed(EMBED, [
      'How do I reset my password in the admin console',
      'reset the admin console password',
      'Lunch menu for the Friday team party',
    ]);
    const [again] = await llm.embed(EMBED, ['How do I reset my password in the admin console']);
    expect(again).toEqual(a);
    expect(a).toHaveLength(256);
    expect(cosine(a!, a!)).toBeCloseTo(1, 6);
    expect(cosine(a!, b!)).toBeGreaterThan(0.5);
    expect(cosine(a!, b!)).toBeGreaterThan(cosine(a!, c!) + 0.3);
  });

  it('maps failures and skips the request for no inputs', async () => {
    expect(await backend().embed(EMBED, [])).toEqual([]);
    expect(fake.embedRequests()).toHaveLength(0);
    expect((await failure(backend().embed('missing-embedder', ['x']))).kind).toBe('unknown_model');
    fake.failNext({ status: 503, path: '/api/embed' });
    expect((await failure(backend().embed(EMBED, ['x']))).kind).toBe('overloaded');
    const aborted = AbortSignal.abort();
    expect((await failure(backend().embed(EMBED, ['x'], aborted))).kind).toBe('aborted');
    fake.delayFirstByte(60_000, '/api/embed');
    expect((await failure(backend({ timeoutMs: 200 }).embed(EMBED, ['x']))).kind).toBe('timeout');
  });
});

describe('health and models', () => {
  it('reports the models when up and the error when down', async () => {
    const llm = backend({ healthTimeoutMs: 500 });
    const up = await llm.health();
    expect(up.ok).toBe(true);
    expect(up.models).toEqual(expect.arrayContaining([MODEL, `${EMBED}:latest`]));
    await fake.down();
    const down = await llm.health();
    expect(down.ok).toBe(false);
    expect(down.models).toEqual([]);
    expect(down.error).toMatch(/cannot be reached/);
  });

  it('pulls only missing models, with throttled progress lines', async () => {
    fake.pullSteps = 50;
    const lines: string[] = [];
    const llm = backend();
    expect(await llm.hasModel('qwen2.5:0.5b')).toBe(false);
    await llm.ensureModels([MODEL, 'qwen2.5:0.5b'], (l) => lines.push(l));

    const pulls = fake.requests.filter((r) => r.path === '/api/pull');
    expect(pulls.map((r) => r.body.name)).toEqual(['qwen2.5:0.5b']);
    expect(fake.hasModel('qwen2.5:0.5b')).toBe(true);
    expect(await llm.hasModel('qwen2.5:0.5b')).toBe(true);
    expect(await llm.hasModel(EMBED)).toBe(true);

    const percents = lines.filter((l) => /\d+% of/.test(l)).map((l) => Number(/(\d+)%/.exec(l)![1]));
    expect(percents).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(lines[0]).toBe(`${MODEL}: present`);
    expect(lines).toContain('qwen2.5:0.5b: pulling manifest');
    expect(lines.at(-1)).toBe('qwen2.5:0.5b: ready');
  });

  it('fails a pull the registry cannot serve', async () => {
    fake.unpullable.add('ghost:1b');
    const err = await failure(backend().ensureModels(['ghost:1b'], () => {}));
    expect(err.kind).toBe('failed');
    expect(err.message).toContain('file does not exist');
    expect(fake.hasModel('ghost:1b')).toBe(false);
  });
});

describe('fake server slots', () => {
  it('queues chats past `parallel` like OLLAMA_NUM_PARALLEL', async () => {
    fake.parallel = 2;
    fake.tokenDelayMs = 10;
    const llm = backend();
    const results = await Promise.all([1, 2, 3, 4].map((n) => llm.chat({ model: MODEL, messages: ask(`question ${n}`) }, () => {})));
    expect(results.map((r) => r.text)).toEqual([1, 2, 3, 4].map((n) => `Answer to: question ${n}`));
    expect(fake.peakInFlight).toBe(4);
    expect(fake.peakProcessing).toBe(2);
    expect(fake.inFlight).toBe(0);
  });
});
