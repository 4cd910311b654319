/** Conversation memory: written before the LLM call, bounded, cleared on request, kept across restarts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { RecordingSink, startTestCore } from './helpers/core.js';
import { openDatabase } from '../src/db/client.js';

let db: TestDatabase;
let fake: FakeOllama;

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeOllama();
});
afterAll(async () => {
  await fake?.close();
  await db?.drop();
});

const prompt = () => fake.chatRequests().at(-1)!.body.messages as { role: string; content: string }[];

describe('conversation memory', () => {
  it('survives a restart of the service', async () => {
    const first = await startTestCore(db.database, fake.url);
    await first.send('remember: the launch is on FRIDAY', { channel: 'plans' });
    await first.core.close();
    // A new process would open a new connection pool on the same database.
    const again = db.url ? await openDatabase({ url: db.url, maxConnections: 2 }) : db.database;
    const second = await startTestCore(again, fake.url);
    await second.send('when is the launch?', { channel: 'plans' });
    const msgs = prompt();
    expect(msgs.some((m) => m.role === 'user' && m.content.includes('FRIDAY'))).toBe(true);
    expect(msgs.some((m) => m.role === 'assistant' && m.content.includes('Answer to: remember'))).toBe(true);
    await second.core.close();
    if (again !== db.database) await again.close();
  });

  it('stores the question even when the backend fails', async () => {
    const t = await startTestCore(db.database, fake.url);
    await fake.down();
    await t.send('question during an outage', { channel: 'outage' });
    await fake.up();
    await t.send('follow-up', { channel: 'outage' });
    expect(prompt().map((m) => m.content)).toContain('question during an outage');
    await t.core.close();
  });

  it('bounds the window by the channel setting and clears on request', async () => {
    const t = await startTestCore(db.database, fake.url);
    for (let i = 0; i < 6; i++) await t.send(`fact number ${i}`, { channel: 'window' });
    await t.send('/llm channel memory 2', { channel: 'window', admin: true });
    await t.send('which facts?', { channel: 'window' });
    const history = prompt().slice(1, -1);
    expect(history).toHaveLength(2);
    expect(history[0]!.content).toContain('fact number 5');

    const cleared = await t.send('/llm memory clear', { channel: 'window', admin: true });
    expect(cleared.sink.final).toMatch(/Forgot \d+ messages/);
    await t.send('anything left?', { channel: 'window' });
    expect(prompt().slice(1, -1)).toHaveLength(0);
    await t.core.close();
  });

  it('brings earlier thread messages in once, on the first mention in a thread', async () => {
    const t = await startTestCore(db.database, fake.url);
    const sink = new RecordingSink();
    const base = {
      platform: 'console' as const,
      tenantExternalId: 'acme',
      channelId: 'support',
      threadId: 'T100',
      caller: { userId: 'bob', isAdmin: async () => false },
      kind: 'message' as const,
      addressed: true,
      isDirect: false,
    };
    const prior = [{ role: 'user' as const, userId: 'carol', text: 'the printer on floor 3 is jammed' }];
    await t.core.engine.handle({ ...base, text: 'can you help?', priorMessages: prior }, sink);
    expect(prompt().map((m) => m.content)).toContain('the printer on floor 3 is jammed');
    await t.core.engine.handle({ ...base, text: 'still jammed', priorMessages: prior }, sink);
    const copies = prompt().filter((m) => m.content === 'the printer on floor 3 is jammed');
    expect(copies).toHaveLength(1);
    await t.core.close();
  });

  it('answers a follow-up in a thread it already answered in, without a mention', async () => {
    const t = await startTestCore(db.database, fake.url);
    const chatter = await t.send('just chatting', { channel: 'team', thread: 'T9', addressed: false });
    expect(chatter.outcome).toBe('ignored');
    await t.send('@bot what is the plan?', { channel: 'team', thread: 'T9' });
    const followUp = await t.send('and after that?', { channel: 'team', thread: 'T9', addressed: false });
    expect(followUp.outcome).toBe('answered');
    expect(prompt().map((m) => m.content)).toContain('@bot what is the plan?');
    // Another thread, or the same thread id in another workspace, is not a follow-up.
    expect((await t.send('unrelated', { channel: 'team', thread: 'T10', addressed: false })).outcome).toBe('ignored');
    expect((await t.send('and after that?', { workspace: 'globex', channel: 'team', thread: 'T9', addressed: false })).outcome).toBe('ignored');
    await t.core.close();
  });
});
