/** The backend failing in each way becomes a friendly reply and a metric, never a crash or a hang. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startTestCore, type TestCore } from './helpers/core.js';
import { ErrorCode, textFor, vocabularies } from '../src/ports/errors.js';
import { metricValue } from './helpers/metrics.js';

let db: TestDatabase;
let fake: FakeOllama;
let t: TestCore;

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeOllama({ tokenDelayMs: 2 });
  t = await startTestCore(db.database, fake.url, { OLLAMA_STALL_MS: '300', OLLAMA_TIMEOUT_MS: '3000', QUEUE_WAIT_MS: '1500' });
});
afterAll(async () => {
  await t?.core.close();
  await fake?.close();
  await db?.drop();
});

async function errorCount(kind: string): Promise<number> {
  return metricValue(t.core.metrics, 'bot_llm_errors_total', { kind });
}

describe('backend faults', () => {
  it('Ollama down: a friendly reply, and answers again once it is back', async () => {
    await fake.down();
    const before = await errorCount('unreachable');
    const r = await t.send('hello?');
    expect(r.outcome).toBe('failed');
    expect(r.sink.final).toBe(textFor(ErrorCode.LlmUnreachable, vocabularies.console));
    expect(r.sink.finishOptions?.kind).toBe('error');
    expect(await errorCount('unreachable')).toBe(before + 1);
    const ready = await fetchReady();
    expect(ready.status).toBe(503);
    await fake.up();
    expect((await t.send('hello again')).outcome).toBe('answered');
  });

  it('one 503 "server busy" is retried after a short wait: the user gets the answer', async () => {
    fake.failNext({ status: 503, body: { error: 'server busy, please try again' }, path: '/api/chat' });
    const r = await t.send('are you there');
    expect(r.outcome).toBe('answered');
    expect(r.sink.final).toBe('Answer to: are you there');
  });

  it('503 on every try until the wait limit (QUEUE_WAIT_MS): "overloaded"', async () => {
    fake.failEvery({ status: 503, body: { error: 'server busy, please try again' }, path: '/api/chat' });
    try {
      const r = await t.send('are you there now');
      expect(r.sink.final).toBe(textFor(ErrorCode.LlmOverloaded, vocabularies.console));
    } finally {
      fake.failEvery(undefined);
    }
  });

  it('a stream that stalls part-way keeps its partial text, marked as cut off, in the reply and in memory', async () => {
    fake.queueReply('One two three four five six.');
    fake.stallAfter(3);
    const r = await t.send('tell me a long story');
    expect(r.outcome).toBe('failed');
    expect(r.sink.final).toMatch(/^One two three\n\n_\(cut off: the language model stopped answering; please ask again for the rest\)_$/);
    expect(r.sink.started).toBe(1);
    const tenant = (await t.core.tenants.resolve('console', 'acme'))!;
    const history = await t.core.memory.window(tenant, { channelId: 'general', threadId: null }, { maxMessages: 10, tokenBudget: 10_000 });
    expect(history.at(-1)).toMatchObject({ role: 'assistant', content: 'One two three\n\n(cut off)' });
    // The three tokens sent before the stall are metered.
    expect((await t.core.usage.today(tenant)).completionTokens).toBeGreaterThanOrEqual(3);
  });

  it('a stream that stalls before any text is a clear "took too long" reply', async () => {
    fake.stallAfter(0);
    const r = await t.send('tell me a long story');
    expect(r.outcome).toBe('failed');
    expect(r.sink.final).toBe(textFor(ErrorCode.LlmStalled, vocabularies.console));
  });

  it('a slow first byte past the stall limit is a time-out reply', async () => {
    fake.delayFirstByte(1500);
    const r = await t.send('slow one');
    expect(r.sink.final).toBe(textFor(ErrorCode.LlmStalled, vocabularies.console));
  });

  it('an unknown model in a persona gets its own explanation', async () => {
    fake.addModel('tiny:1b');
    await t.send('/llm persona create tiny --model tiny:1b Be tiny.', { admin: true });
    await t.send('/llm persona use tiny', { admin: true, channel: 'tiny' });
    fake.removeModel('tiny:1b');
    const r = await t.send('hi', { channel: 'tiny' });
    expect(r.sink.final).toBe(textFor(ErrorCode.LlmUnknownModel, vocabularies.console));
  });

  it('refuses a persona whose model the backend does not have', async () => {
    const r = await t.send('/llm persona create ghost --model nosuch:7b Boo.', { admin: true });
    expect(r.sink.final).toMatch(/not available/);
  });

  async function fetchReady() {
    const port = await t.core.http.listen(0);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      return { status: res.status, body: await res.json() };
    } finally {
      await t.core.http.close();
    }
  }
});
