/**
 * Channel-scoped knowledge through the real engine, on both vector stores (pgvector, and Qdrant
 * through the real client against the fake Qdrant): documents restricted to channels never
 * reach a question asked elsewhere in the workspace, threads inherit their channel's scope, DMs
 * see workspace-wide documents only, and another tenant with the same channel names sees none.
 * The documents overlap on purpose: every one answers the same question, so only the scope can
 * keep a passage out of the prompt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, createVectorTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startFakeQdrant, type FakeQdrant } from './fakes/qdrant.js';
import { startTestCore, type SendOptions, type TestCore } from './helpers/core.js';

const promptText = (req: { body: { messages: { content: string }[] } }) => req.body.messages.map((m) => m.content).join('\n');

/** Every document answers the same question; its code word says which one reached the prompt. */
const doc = (word: string) => `The quarterly compensation review code word is ${word}. Reviews happen in April and October.`;
const words = ['GREEN-ALL', 'AZURE-HR', 'CRIMSON-SALES', 'VIOLET-BOTH', 'BLACK-GLOBEX'] as const;

interface Store {
  name: string;
  open(): Promise<{ db: TestDatabase; env: Record<string, string>; close(): Promise<void> }>;
}

const stores: Store[] = [
  {
    name: 'pgvector',
    async open() {
      const db = await createVectorTestDatabase();
      return { db, env: {}, close: async () => {} };
    },
  },
  {
    name: 'Qdrant',
    async open() {
      const [db, qdrant]: [TestDatabase, FakeQdrant] = await Promise.all([createTestDatabase(), startFakeQdrant()]);
      return { db, env: { QDRANT_URL: qdrant.url }, close: () => qdrant.close() };
    },
  },
];

describe.each(stores)('channel-scoped knowledge on $name', (store) => {
  let opened: Awaited<ReturnType<Store['open']>>;
  let fake: FakeOllama;
  let t: TestCore;

  const admin = (text: string, o: SendOptions = {}) => t.send(`/llm ${text}`, { admin: true, ...o });
  /** The code words that reached the prompt of a question asked with `o`. */
  const seenFrom = async (o: SendOptions) => {
    const r = await t.send('what is the quarterly compensation review code word?', o);
    expect(r.outcome).toBe('answered');
    const prompt = promptText(fake.chatRequests().at(-1)!);
    return words.filter((w) => prompt.includes(w));
  };
  const idOf = (reply: string | null) => /id `([0-9a-f-]{36})`/.exec(reply ?? '')![1]!;

  beforeAll(async () => {
    opened = await store.open();
    fake = await startFakeOllama();
    // Every passage scores high enough against the question: only the scope decides.
    t = await startTestCore(opened.db.database, fake.url, { ...opened.env, RETRIEVAL_MIN_SCORE: '-1', RETRIEVAL_TOP_K: '10' });
    expect((await admin(`knowledge add Handbook: ${doc('GREEN-ALL')}`, { channel: 'general' })).sink.final).toContain('everywhere');
    const hr = await admin(`knowledge add --here Salaries: ${doc('AZURE-HR')}`, { channel: 'hr' });
    expect(hr.sink.final).toContain('only in #hr');
    await admin(`knowledge add --here Pipeline: ${doc('CRIMSON-SALES')}`, { channel: 'sales' });
    const both = await admin(`knowledge add Bonus: ${doc('VIOLET-BOTH')}`, { channel: 'general' });
    const restricted = await admin(`knowledge restrict ${idOf(both.sink.final)} #hr sales`, { channel: 'general' });
    expect(restricted.sink.final).toBe('**Bonus** is now used only in #hr, #sales.');
    // Another tenant, with the same channel names, and a document restricted to #hr.
    await admin(`knowledge add --here Salaries: ${doc('BLACK-GLOBEX')}`, { workspace: 'globex', channel: 'hr' });
  });

  afterAll(async () => {
    await t?.core.close();
    await fake?.close();
    await opened?.close();
    await opened?.db.drop();
  });

  it('a question in a channel draws on workspace-wide documents and those restricted to it, nothing else', async () => {
    expect(await seenFrom({ channel: 'hr' })).toEqual(['GREEN-ALL', 'AZURE-HR', 'VIOLET-BOTH']);
    expect(await seenFrom({ channel: 'sales' })).toEqual(['GREEN-ALL', 'CRIMSON-SALES', 'VIOLET-BOTH']);
    expect(await seenFrom({ channel: 'dev' })).toEqual(['GREEN-ALL']);
  });

  it('a thread inherits its channel scope', async () => {
    expect(await seenFrom({ channel: 'hr', thread: 't-1' })).toEqual(['GREEN-ALL', 'AZURE-HR', 'VIOLET-BOTH']);
    expect(await seenFrom({ channel: 'dev', thread: 't-2' })).toEqual(['GREEN-ALL']);
  });

  it('a DM draws on workspace-wide documents only, even when its channel id is a scoped channel name', async () => {
    expect(await seenFrom({ channel: 'hr', isDirect: true })).toEqual(['GREEN-ALL']);
    expect(await seenFrom({ channel: 'D-alice', isDirect: true })).toEqual(['GREEN-ALL']);
  });

  it('another tenant with the same channel names sees only its own documents', async () => {
    expect(await seenFrom({ workspace: 'globex', channel: 'hr' })).toEqual(['BLACK-GLOBEX']);
    expect(await seenFrom({ workspace: 'globex', channel: 'sales' })).toEqual([]);
    expect(await seenFrom({ workspace: 'acme', channel: 'hr' })).not.toContain('BLACK-GLOBEX');
  });

  it('restrict all makes a document workspace-wide again, and restricting it back takes effect at once', async () => {
    const list = await admin('knowledge list');
    const line = list.sink.final!.split('\n').find((l) => l.includes('**Salaries**'))!;
    expect(line).toContain('only in #hr');
    const id = /`([0-9a-f-]{36})`/.exec(line)![1]!;
    await admin(`knowledge restrict ${id.slice(0, 8)} all`);
    expect(await seenFrom({ channel: 'dev' })).toEqual(['GREEN-ALL', 'AZURE-HR']);
    await admin(`knowledge restrict ${id} here`, { channel: 'hr' });
    expect(await seenFrom({ channel: 'dev' })).toEqual(['GREEN-ALL']);
    expect(await seenFrom({ channel: 'hr' })).toContain('AZURE-HR');
  });

  it('re-adding a title without --here keeps its channels: a new version never widens who sees it', async () => {
    const again = await admin(`knowledge add Salaries: ${doc('AZURE-HR')} Now with a new table.`, { channel: 'general' });
    expect(again.sink.final).toMatch(/^Replaced \*\*Salaries\*\*.*only in #hr\.$/);
    expect(await seenFrom({ channel: 'dev' })).toEqual(['GREEN-ALL']);
  });
});

describe('knowledge restrict as each platform writes channels', () => {
  let db: TestDatabase;
  let fake: FakeOllama;
  let t: TestCore;

  beforeAll(async () => {
    db = await createVectorTestDatabase();
    fake = await startFakeOllama();
    t = await startTestCore(db.database, fake.url);
    await t.core.tenants.install('slack', 'T0SCOPE');
    await t.core.tenants.install('discord', '800000000000000001');
  });
  afterAll(async () => {
    await t?.core.close();
    await fake?.close();
    await db?.drop();
  });

  const add = async (o: SendOptions) => {
    const r = await t.send('/llm knowledge add Rota: Who is on call this week.', { admin: true, ...o });
    return /id `([0-9a-f-]{36})`/.exec(r.sink.final!)![1]!;
  };

  it('Slack: channel links in, channel links out', async () => {
    const o = { platform: 'slack' as const, workspace: 'T0SCOPE', channel: 'C0GENERAL1' };
    const id = await add(o);
    const r = await t.send(`/llm knowledge restrict ${id} <#C0HR00001|hr> <#C0SALES01> C0OPS0001`, { admin: true, ...o });
    expect(r.sink.final).toBe('**Rota** is now used only in <#C0HR00001>, <#C0SALES01>, <#C0OPS0001>.');
    const list = await t.send('/llm knowledge list', { admin: true, ...o });
    expect(list.sink.final).toContain('only in <#C0HR00001>, <#C0SALES01>, <#C0OPS0001>');
  });

  it('Slack: a channel typed as plain text is refused with how to name it, and nothing changes', async () => {
    const o = { platform: 'slack' as const, workspace: 'T0SCOPE', channel: 'C0GENERAL1' };
    const r = await t.send('/llm knowledge list', { admin: true, ...o });
    const id = /`([0-9a-f-]{36})`/.exec(r.sink.final!)![1]!;
    const bad = await t.send(`/llm knowledge restrict ${id} #random`, { admin: true, ...o });
    expect(bad.result).toMatchObject({ status: 'refused', code: 'invalid_input' });
    expect(bad.sink.final).toBe('`#random` is not a channel: type # and pick the channel, so Slack links it.');
    const after = await t.send('/llm knowledge list', { admin: true, ...o });
    expect(after.sink.final).toBe(r.sink.final);
  });

  it('Discord: channel mentions in and out', async () => {
    const o = { platform: 'discord' as const, workspace: '800000000000000001', channel: '900000000000000001' };
    const id = await add(o);
    const r = await t.send(`/llm knowledge restrict ${id} <#900000000000000002> 900000000000000003`, { admin: true, ...o });
    expect(r.sink.final).toBe('**Rota** is now used only in <#900000000000000002>, <#900000000000000003>.');
  });

  it('refuses --here in a DM, a missing document, "all" among channels, over 50 channels, and non-admins, changing nothing', async () => {
    const dm = await t.send('/llm knowledge add --here Notes: private notes', { admin: true, isDirect: true, channel: 'D1' });
    expect(dm.sink.final).toMatch(/A direct message is not a channel/);
    const missing = await t.send('/llm knowledge restrict 00000000-0000-4000-8000-000000000000 #hr', { admin: true });
    expect(missing.sink.final).toMatch(/There is no document with id/);
    const id = await add({});
    const mixed = await t.send(`/llm knowledge restrict ${id} #hr all`, { admin: true });
    expect(mixed.sink.final).toMatch(/`all` stands alone/);
    const many = Array.from({ length: 51 }, (_, i) => `#c${i}`).join(' ');
    const tooMany = await t.send(`/llm knowledge restrict ${id} ${many}`, { admin: true });
    expect(tooMany.sink.final).toBe('A document can be limited to at most 50 channels; that was 51.');
    const member = await t.send(`/llm knowledge restrict ${id} #hr`, { admin: false });
    expect(member.result.code).toBe('admin_only');
    const list = await t.send('/llm knowledge list', { admin: true });
    expect(list.sink.final).toContain('everywhere in this workspace');
    const tenant = (await t.core.tenants.resolve('console', 'acme'))!;
    expect((await t.core.audit.recent(tenant)).map((e) => e.action)).not.toContain('knowledge.restrict');
  });

  it('audits a restriction with the document and its channels', async () => {
    const id = await add({ workspace: 'audited' });
    await t.send(`/llm knowledge restrict ${id} #hr #hr #people`, { admin: true, workspace: 'audited', user: 'boss' });
    const tenant = (await t.core.tenants.resolve('console', 'audited'))!;
    const [entry] = await t.core.audit.recent(tenant, 1);
    expect(entry).toMatchObject({ actor: 'boss', action: 'knowledge.restrict', detail: { id, title: 'Rota', channels: ['hr', 'people'] } });
  });
});
