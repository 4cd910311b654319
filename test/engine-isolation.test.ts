/** Two tenants side by side: nothing of one reaches the other. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startTestCore, type TestCore } from './helpers/core.js';

let db: TestDatabase;
let fake: FakeOllama;
let t: TestCore;

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeOllama();
  t = await startTestCore(db.database, fake.url);
});
afterAll(async () => {
  await t?.core.close();
  await fake?.close();
  await db?.drop();
});

const promptText = (req: any) => req.body.messages.map((m: any) => m.content).join('\n');

describe('tenant isolation', () => {
  it('keeps conversation memory apart even for the same channel id', async () => {
    await t.send('my secret codeword is PAPAYA', { workspace: 'acme', channel: 'general' });
    await t.send('what is my codeword?', { workspace: 'globex', channel: 'general' });
    const last = fake.chatRequests().at(-1)!;
    expect(promptText(last)).toContain('what is my codeword?');
    expect(promptText(last)).not.toContain('PAPAYA');

    await t.send('and again?', { workspace: 'acme', channel: 'general' });
    expect(promptText(fake.chatRequests().at(-1)!)).toContain('PAPAYA');
  });

  it('keeps threads as their own memory scope', async () => {
    await t.send('thread-only fact: KIWI', { workspace: 'acme', channel: 'eng', thread: 't1' });
    await t.send('channel question', { workspace: 'acme', channel: 'eng' });
    expect(promptText(fake.chatRequests().at(-1)!)).not.toContain('KIWI');
    await t.send('thread question', { workspace: 'acme', channel: 'eng', thread: 't1' });
    expect(promptText(fake.chatRequests().at(-1)!)).toContain('KIWI');
  });

  it('keeps personas apart: another tenant can neither list nor use one', async () => {
    const created = await t.send('/llm persona create pirate Talk like a pirate, ARRR.', { workspace: 'acme', admin: true });
    expect(created.sink.final).toMatch(/saved/);
    const listB = await t.send('/llm persona list', { workspace: 'globex' });
    expect(listB.sink.final).not.toContain('pirate');
    const useB = await t.send('/llm persona use pirate', { workspace: 'globex', admin: true, channel: 'ops' });
    expect(useB.sink.final).toMatch(/no persona called "pirate"/);

    await t.send('/llm persona use pirate', { workspace: 'acme', admin: true, channel: 'ops' });
    await t.send('hello', { workspace: 'acme', channel: 'ops' });
    expect(fake.chatRequests().at(-1)!.body.messages[0].content).toContain('pirate');
    await t.send('hello', { workspace: 'globex', channel: 'ops' });
    expect(fake.chatRequests().at(-1)!.body.messages[0].content).not.toContain('pirate');
  });

  it('keeps channel settings apart', async () => {
    const off = await t.send('/llm channel mode off', { workspace: 'acme', admin: true, channel: 'random' });
    expect(off.sink.final).toMatch(/never/);
    const a = await t.send('anyone there?', { workspace: 'acme', channel: 'random' });
    expect(a.outcome).toBe('ignored');
    const b = await t.send('anyone there?', { workspace: 'globex', channel: 'random' });
    expect(b.outcome).toBe('answered');
  });

  it('keeps usage apart', async () => {
    const acme = (await t.core.tenants.resolve('console', 'acme'))!;
    const globex = (await t.core.tenants.resolve('console', 'globex'))!;
    const before = await t.core.usage.today(globex);
    await t.send('count me', { workspace: 'acme' });
    const acmeToday = await t.core.usage.today(acme);
    const globexAfter = await t.core.usage.today(globex);
    expect(acmeToday.requests).toBeGreaterThan(0);
    expect(acmeToday.completionTokens).toBeGreaterThan(0);
    expect(globexAfter).toEqual(before);
    const report = await t.send('/llm usage', { workspace: 'globex', admin: true });
    expect(report.sink.final).toContain(`${before.requests} answers`);
  });
});
