/**
 * The composition root (src/services.ts, src/app.ts): building a core reaches nothing but the
 * database, an injected backend is the only backend, every metric moves once per refusal and
 * is served behind METRICS_TOKEN, and MAX_QUESTION_CHARS stops a long question before anything
 * is stored or sent. Real Postgres (or PGlite), the real Ollama client against fake Ollamas,
 * the real Qdrant client against the fake Qdrant, a bare TCP listener standing in for Redis.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { OllamaBackend } from '../src/llm/ollama-backend.js';
import { ErrorCode } from '../src/ports/errors.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { RecordingSink, startTestCore, type TestCore } from './helpers/core.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startFakeQdrant, type FakeQdrant } from './fakes/qdrant.js';

const silent = createLogger('silent');
const METRICS_TOKEN = 'metrics-token-0123456789';

let db: TestDatabase;
let ollama: FakeOllama;
let qdrant: FakeQdrant;
let t: TestCore;
let base: string;

beforeAll(async () => {
  [db, ollama, qdrant] = await Promise.all([createTestDatabase(), startFakeOllama(), startFakeQdrant()]);
  t = await startTestCore(db.database, ollama.url, { MAX_QUESTION_CHARS: '50', METRICS_TOKEN });
  base = `http://127.0.0.1:${await t.core.http.listen(0, '127.0.0.1')}`;
});
afterAll(async () => {
  await t?.core.close();
  await Promise.all([ollama?.close(), qdrant?.close()]);
  await db?.drop();
});

/** A listener that only counts connections: anything trying to talk to "Redis" shows up. */
async function countingListener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((socket) => {
    n++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => n };
}

/** Every series of the /metrics text as "name{labels}" -> value. */
async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  const series = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) series.set(m[1]!, Number(m[2]));
  }
  return series;
}

function moved(before: Map<string, number>, after: Map<string, number>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (k.startsWith(prefix) && v !== (before.get(k) ?? 0)) out[k] = v - (before.get(k) ?? 0);
  return out;
}

describe('composition root', () => {
  it('builds a core without reaching Ollama, Qdrant or Redis', async () => {
    const [o, q] = await Promise.all([startFakeOllama(), startFakeQdrant()]);
    const redis = await countingListener();
    try {
      const config = loadConfig({ LOG_LEVEL: 'silent', OLLAMA_HOST: o.url, QDRANT_URL: q.url, REDIS_URL: `redis://127.0.0.1:${redis.port}` });
      const core = await createCore(config, { database: db.database, logger: silent });
      expect(core.knowledge).toBeDefined();
      await core.close();
      expect(o.requests).toEqual([]);
      expect(q.requests).toEqual([]);
      expect(redis.connections()).toBe(0);
    } finally {
      redis.server.close();
      await Promise.all([o.close(), q.close()]);
    }
  });

  it('uses an injected backend for answers, persona model checks and readiness, never a second client', async () => {
    const configured = await startFakeOllama();
    const injected = await startFakeOllama({ models: ['llama3.2:3b', 'nomic-embed-text', 'house-model'] });
    try {
      const backend = new OllamaBackend({ host: injected.url, stallMs: 2_000, timeoutMs: 10_000 });
      const core = await createCore(loadConfig({ LOG_LEVEL: 'silent', OLLAMA_HOST: configured.url }), { database: db.database, logger: silent, backend });
      const port = await core.http.listen(0, '127.0.0.1');
      try {
        const msg = (text: string) => ({
          platform: 'console' as const,
          tenantExternalId: 'injected-co',
          eventId: crypto.randomUUID(),
          channelId: 'general',
          threadId: null,
          caller: { userId: 'ada', isAdmin: async () => true },
          text,
          kind: 'message' as const,
          addressed: true,
          isDirect: false,
        });
        expect((await core.engine.handle(msg('hello there'), new RecordingSink())).status).toBe('answered');
        expect((await core.engine.handle(msg('/llm persona create housebot --model house-model You answer briefly.'), new RecordingSink())).status).toBe(
          'command',
        );
        expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
        expect(injected.chatRequests()).toHaveLength(1);
        expect(injected.requests.some((r) => r.path === '/api/tags')).toBe(true);
        expect(configured.requests).toEqual([]);
        expect((await core.personas.get((await core.tenants.resolve('console', 'injected-co'))!, 'housebot'))?.model).toBe('house-model');
      } finally {
        await core.close();
      }
    } finally {
      await Promise.all([configured.close(), injected.close()]);
    }
  });
});

describe('backend pool', () => {
  it('builds one pool over every OLLAMA_HOST backend: /readyz is ready while each configured model is on a backend that is up', async () => {
    const [a, b] = await Promise.all([startFakeOllama({ models: ['llama3.2:3b'] }), startFakeOllama({ models: ['nomic-embed-text'] })]);
    const core = await createCore(loadConfig({ LOG_LEVEL: 'silent', OLLAMA_HOST: `${a.url},${b.url}`, OLLAMA_PARALLEL: '1,3' }), { database: db.database, logger: silent });
    const port = await core.http.listen(0, '127.0.0.1');
    const ready = async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
    try {
      expect(core.pool?.snapshot().map((s) => [s.url, s.slots])).toEqual([
        [a.url, 1],
        [b.url, 3],
      ]);
      expect(core.slots).toBe(core.pool);
      expect(await ready()).toBe(200);
      expect(core.slots!.capacity()).toBe(4);
      b.removeModel('nomic-embed-text');
      expect(await ready()).toBe(503);
      a.addModel('nomic-embed-text');
      expect(await ready()).toBe(200);
      await b.down();
      expect(await ready()).toBe(200);
      expect(core.slots!.capacity()).toBe(1);
      await a.down();
      expect(await ready()).toBe(503);
    } finally {
      await core.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('an injected backend without slots leaves services.slots undefined', async () => {
    const o = await startFakeOllama();
    try {
      const backend = new OllamaBackend({ host: o.url, stallMs: 2_000, timeoutMs: 10_000 });
      const core = await createCore(loadConfig({ LOG_LEVEL: 'silent' }), { database: db.database, logger: silent, backend });
      expect([core.slots, core.pool]).toEqual([undefined, undefined]);
      await core.close();
    } finally {
      await o.close();
    }
  });
});

describe('metrics', () => {
  it('moves each counter once for a quota refusal and once for an admission refusal', async () => {
    await t.core.tenants.install('console', 'spent-co');
    await t.core.tenants.setPlan('console', 'spent-co', 'team', { tokensPerDay: 0 });
    await t.core.tenants.install('console', 'closed-co');
    await t.core.tenants.setPlan('console', 'closed-co', 'team', { maxConcurrent: 0 });

    const before = await scrape();
    const quota = await t.send('what is the plan?', { workspace: 'spent-co' });
    expect(quota.result).toMatchObject({ status: 'refused', code: ErrorCode.QuotaExhausted });
    const afterQuota = await scrape();
    expect(moved(before, afterQuota, 'bot_')).toEqual({
      'bot_messages_total{platform="console",outcome="refused"}': 1,
      bot_quota_refusals_total: 1,
    });

    const busy = await t.send('anyone there?', { workspace: 'closed-co' });
    expect(busy.result).toMatchObject({ status: 'refused', code: ErrorCode.BusyTenantQueue });
    const afterBusy = await scrape();
    expect(moved(afterQuota, afterBusy, 'bot_')).toEqual({
      'bot_messages_total{platform="console",outcome="refused"}': 1,
      'bot_rejections_total{reason="tenant_queue_full"}': 1,
    });
    // The ledger agrees: one refusal per tenant.
    for (const name of ['spent-co', 'closed-co']) {
      expect((await t.core.usage.today((await t.core.tenants.resolve('console', name))!)).rejected).toBe(1);
    }
  });

  it('serves /metrics only with the METRICS_TOKEN bearer token when one is set', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('# TYPE bot_messages_total counter');
  });
});

describe('MAX_QUESTION_CHARS', () => {
  it('refuses a longer question with its limit, before it is stored or sent to the model', async () => {
    const chats = ollama.chatRequests().length;
    const long = await t.send('x'.repeat(51), { workspace: 'wordy-co', channel: 'long' });
    expect(long.result).toMatchObject({ status: 'refused', replied: true, code: ErrorCode.QuestionTooLong });
    expect(long.sink.final).toBe('That question is longer than the 50 characters I can take. Please shorten it.');
    expect(ollama.chatRequests()).toHaveLength(chats);
    const tenant = (await t.core.tenants.resolve('console', 'wordy-co'))!;
    expect(await t.core.memory.hasAny(tenant, { channelId: 'long', threadId: null })).toBe(false);

    const fits = await t.send('y'.repeat(50), { workspace: 'wordy-co', channel: 'long' });
    expect(fits.outcome).toBe('answered');
    expect(ollama.chatRequests()).toHaveLength(chats + 1);
  });
});
