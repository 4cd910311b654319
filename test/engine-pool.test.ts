/**
 * The pool through the whole engine (admission, token-fair order, the ask pipeline): three fake
 * Ollama servers behind OLLAMA_HOST, one killed while questions stream, one answering 503 to
 * everything, one slow. Users see answers, never a refusal, while any backend can serve; an answer
 * cut mid-stream keeps its text, marked; the slots in use follow the backends that are up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startTestCore, type TestCore } from './helpers/core.js';

let db: TestDatabase;
let fakes: FakeOllama[];
let t: TestCore;

beforeAll(async () => {
  db = await createTestDatabase();
  fakes = await Promise.all([startFakeOllama({ tokenDelayMs: 4 }), startFakeOllama({ tokenDelayMs: 4 }), startFakeOllama({ tokenDelayMs: 20 })]);
  for (const f of fakes) f.parallel = 2;
  t = await startTestCore(db.database, fakes.map((f) => f.url).join(','), { OLLAMA_PARALLEL: '2', QUEUE_MAX: '500' });
  for (const f of fakes) f.reply = () => Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
});
afterAll(async () => {
  await t?.core.close();
  await Promise.all((fakes ?? []).map((f) => f.close()));
  await db?.drop();
});

async function tenant(name: string) {
  await t.core.tenants.install('console', name);
  await t.core.tenants.setPlan('console', name, 'enterprise', { maxConcurrent: 20, maxQueued: 200, requestsPerMinute: 10_000 });
}

describe('the backend pool through the engine', () => {
  it('a backend killed mid-run: every question is answered except streams cut on it, which keep their text, marked', async () => {
    await tenant('pool-kill');
    const asks = Array.from({ length: 30 }, (_, i) => t.send(`question ${i}`, { workspace: 'pool-kill', channel: `c${i}` }));
    // Kill the first backend once it is streaming.
    for (let i = 0; i < 500 && fakes[0]!.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await fakes[0]!.down();
    const results = await Promise.all(asks);
    await fakes[0]!.up();
    const answered = results.filter((r) => r.outcome === 'answered');
    const cut = results.filter((r) => r.outcome !== 'answered');
    // A refusal or an error without text never reaches anyone: only answers cut mid-stream differ.
    for (const r of cut) expect(r.sink.final).toMatch(/^w0 [\s\S]*_\(cut off: the language model stopped answering; please ask again for the rest\)_$/);
    expect(answered.length + cut.length).toBe(30);
    expect(cut.length).toBeLessThanOrEqual(2);
    for (const r of answered) expect(r.sink.final).toMatch(/^w0 w1 .* w29$/);
  });

  it('a backend answering 503 to everything and a slow one: every question is answered, the fast ones do most of the work', async () => {
    await tenant('pool-503');
    for (let i = 0; i < 200 && t.core.slots!.capacity() < 6; i++) await new Promise((r) => setTimeout(r, 50));
    fakes[0]!.failEvery({ status: 503, body: { error: 'server busy, please try again' }, path: '/api/chat' });
    const before = fakes.map((f) => f.chatRequests().length);
    try {
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => t.send(`busy ${i}`, { workspace: 'pool-503', channel: `b${i}` })));
      expect(results.map((r) => r.outcome)).toEqual(Array(24).fill('answered'));
    } finally {
      fakes[0]!.failEvery(undefined);
    }
    const served = fakes.map((f, i) => f.chatRequests().length - before[i]!);
    // The fast healthy backend served more than the slow one.
    expect(served[1]!).toBeGreaterThan(served[2]!);
    for (const f of fakes) expect(f.peakInFlight).toBeLessThanOrEqual(2);
  });
});
