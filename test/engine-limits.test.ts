/** Limits through the whole engine: backend slots, per-tenant caps, full queues, quotas. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startTestCore, type TestCore } from './helpers/core.js';
import { ErrorCode, textFor, vocabularies } from '../src/ports/errors.js';
import { eq } from 'drizzle-orm';
import { usage } from '../src/db/schema.js';

let db: TestDatabase;
let fake: FakeOllama;
let t: TestCore;

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeOllama({ tokenDelayMs: 5 });
  t = await startTestCore(db.database, fake.url, { OLLAMA_PARALLEL: '2', QUEUE_MAX: '50' });
});
afterAll(async () => {
  await t?.core.close();
  await fake?.close();
  await db?.drop();
});
afterEach(() => {
  fake.tokenDelayMs = 5;
  fake.reply = undefined as any;
});

async function tenantWith(name: string, overrides: Record<string, number>) {
  await t.core.tenants.install('console', name);
  await t.core.tenants.setPlan('console', name, 'team', overrides);
}

describe('limits and fairness through the engine', () => {
  it('never has more requests on the backend than OLLAMA_PARALLEL', async () => {
    for (const n of ['p1', 'p2', 'p3']) await tenantWith(n, { maxConcurrent: 4, maxQueued: 20 });
    fake.peakProcessing = 0;
    fake.peakInFlight = 0;
    const runs = ['p1', 'p2', 'p3'].flatMap((w) => Array.from({ length: 4 }, (_, i) => t.send(`q${i}`, { workspace: w })));
    const results = await Promise.all(runs);
    expect(results.every((r) => r.outcome === 'answered')).toBe(true);
    expect(fake.peakInFlight).toBe(2);
  });

  it('caps one tenant at its maxConcurrent', async () => {
    await tenantWith('solo', { maxConcurrent: 1, maxQueued: 20 });
    fake.peakInFlight = 0;
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => t.send(`s${i}`, { workspace: 'solo' })));
    expect(results.map((r) => r.outcome)).toEqual(['answered', 'answered', 'answered', 'answered']);
    expect(fake.peakInFlight).toBe(1);
  });

  it('answers "busy" when the tenant queue is full, and still answers the admitted ones', async () => {
    await tenantWith('noisy', { maxConcurrent: 1, maxQueued: 2 });
    fake.tokenDelayMs = 20;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => t.send(`n${i}`, { workspace: 'noisy' })));
    const busy = results.filter((r) => r.outcome === 'refused');
    const answered = results.filter((r) => r.outcome === 'answered');
    expect(busy.length).toBeGreaterThan(0);
    expect(answered.length).toBeGreaterThan(0);
    expect(busy.length + answered.length).toBe(8);
    for (const b of busy) expect(b.sink.final).toBe(textFor(ErrorCode.BusyTenantQueue, vocabularies.console));
    // Every caller got exactly one final message: nothing was dropped silently.
    expect(results.every((r) => r.sink.finishCount === 1)).toBe(true);
    const tenant = (await t.core.tenants.resolve('console', 'noisy'))!;
    expect((await t.core.usage.today(tenant)).rejected).toBe(busy.length);
  });

  it('refuses with a clear reply once the daily token quota is spent', async () => {
    await tenantWith('thrifty', { tokensPerDay: 30 });
    fake.reply = () => Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    const first = await t.send('long answer please', { workspace: 'thrifty' });
    expect(first.outcome).toBe('answered');
    const before = fake.chatRequests().length;
    const second = await t.send('another', { workspace: 'thrifty' });
    expect(second.outcome).toBe('refused');
    expect(second.sink.final).toBe('This workspace has used its 30 tokens for today. The allowance resets at midnight UTC.');
    expect(fake.chatRequests().length).toBe(before);
    // Another tenant is unaffected by this one's spent quota.
    const other = await t.send('hi', { workspace: 'p1' });
    expect(other.outcome).toBe('answered');
  });

  it('30 concurrent questions on two instances overshoot a 2,000-token daily quota by less than one answer', async () => {
    await tenantWith('quota30', { tokensPerDay: 2_000, maxConcurrent: 30, maxQueued: 30, requestsPerMinute: 1_000 });
    fake.reply = () => Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    // A second instance on the same database: reservations are shared through it.
    const second = await startTestCore(db.database, fake.url, { OLLAMA_PARALLEL: '2', QUEUE_MAX: '50' });
    try {
      const asks = Array.from({ length: 30 }, (_, i) => (i % 2 ? second : t).send(`question number ${i}`, { workspace: 'quota30', channel: `c${i}` }));
      const results = await Promise.all(asks);
      const answered = results.filter((r) => r.outcome === 'answered');
      const refused = results.filter((r) => r.outcome === 'refused');
      expect(answered.length + refused.length).toBe(30);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) expect(r.sink.final).toMatch(/has used its 2,000 tokens for today/);
      const largest = Math.max(...answered.map((r) => r.result.answer!.promptTokens + r.result.answer!.completionTokens));
      const tenant = (await t.core.tenants.resolve('console', 'quota30'))!;
      const used = (await t.core.usage.today(tenant)).tokens;
      expect(used).toBe(answered.reduce((sum, r) => sum + r.result.answer!.promptTokens + r.result.answer!.completionTokens, 0));
      expect(used - 2_000).toBeLessThan(largest);
      // Every reservation was released as its answer was metered (or refused).
      const [row] = await db.database.db.select().from(usage).where(eq(usage.tenantId, tenant.tenantId));
      expect(row!.reservedTokens).toBe(0);
    } finally {
      await second.core.close();
    }
  });

  it('tells a question over its per-minute budget at once when to try again, when the wait would pass the limit', async () => {
    const short = await startTestCore(db.database, fake.url, { OLLAMA_PARALLEL: '2', QUEUE_WAIT_MS: '5000' });
    try {
      await short.core.tenants.install('console', 'hasty');
      await short.core.tenants.setPlan('console', 'hasty', 'team', { requestsPerMinute: 1 });
      expect((await short.send('first', { workspace: 'hasty' })).outcome).toBe('answered');
      const before = fake.chatRequests().length;
      const second = await short.send('second', { workspace: 'hasty' });
      expect(second.result).toMatchObject({ status: 'refused', code: 'busy_rate_limited' });
      expect(second.sink.final).toMatch(/^This workspace's 1 question a minute is used\. Please try again in ~\d+ s\.$/);
      expect(fake.chatRequests().length).toBe(before);
    } finally {
      await short.core.close();
    }
  });

  it('meters tokens from the backend\'s own counts', async () => {
    await tenantWith('metered', {});
    fake.reply = () => 'one two three four five';
    await t.send('count these words', { workspace: 'metered' });
    const tenant = (await t.core.tenants.resolve('console', 'metered'))!;
    const u = await t.core.usage.today(tenant);
    expect(u.completionTokens).toBe(5);
    const req = fake.chatRequests().at(-1)!;
    const promptWords = req.body.messages.map((m: any) => m.content).join(' ').split(/\s+/).filter(Boolean).length;
    expect(u.promptTokens).toBe(promptWords);
  });

  it('does not let a tenant admin raise its own limits', async () => {
    const r = await t.send('/llm usage', { workspace: 'metered', admin: true });
    expect(r.sink.final).toContain('Limits are set by the operator');
    const attempt = await t.send('/llm plan enterprise', { workspace: 'metered', admin: true });
    // Not a command: after /llm it is "unknown command" (never a question), and the plan is unchanged.
    expect(attempt.result).toMatchObject({ status: 'refused', code: 'command_unknown' });
    expect((await t.core.tenants.resolve('console', 'metered'))!.plan).toBe('team');
  });
});
