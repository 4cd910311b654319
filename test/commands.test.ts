/** The command grammar and its permissions: parsed once, checked by the adapter's isAdmin, audited. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand, helpText, CommandSyntaxError } from '../src/core/commands/grammar.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startTestCore, type TestCore } from './helpers/core.js';
import { ErrorCode, textFor, vocabularies } from '../src/ports/errors.js';

describe('grammar', () => {
  it('parses every command form', () => {
    expect(parseCommand('/llm ask what is up')).toEqual({ type: 'ask', question: 'what is up' });
    expect(parseCommand('what is up')).toEqual({ type: 'ask', question: 'what is up' });
    expect(parseCommand('help')).toEqual({ type: 'help' });
    expect(parseCommand('help me write a poem')).toEqual({ type: 'ask', question: 'help me write a poem' });
    expect(parseCommand('persona list')).toEqual({ type: 'persona.list' });
    expect(parseCommand('persona show Pirate')).toEqual({ type: 'persona.show', name: 'pirate' });
    expect(parseCommand('persona create bard --temperature 0.9 --max-tokens 200 You speak in verse.\nAlways.')).toEqual({
      type: 'persona.create',
      persona: { name: 'bard', temperature: 0.9, maxTokens: 200, systemPrompt: 'You speak in verse.\nAlways.' },
    });
    expect(parseCommand('persona use bard')).toEqual({ type: 'persona.use', name: 'bard' });
    expect(parseCommand('persona default bard')).toEqual({ type: 'persona.default', name: 'bard' });
    expect(parseCommand('persona delete bard')).toEqual({ type: 'persona.delete', name: 'bard' });
    expect(parseCommand('channel mode all')).toEqual({ type: 'channel.mode', mode: 'all' });
    expect(parseCommand('channel memory 12')).toEqual({ type: 'channel.memory', messages: 12 });
    expect(parseCommand('channel retrieval off')).toEqual({ type: 'channel.retrieval', enabled: false });
    expect(parseCommand('memory clear')).toEqual({ type: 'memory.clear' });
    expect(parseCommand('knowledge add Holidays: We close on 24 Dec.')).toEqual({
      type: 'knowledge.add',
      title: 'Holidays',
      text: 'We close on 24 Dec.',
    });
    expect(parseCommand('knowledge add Handbook')).toEqual({ type: 'knowledge.add', title: 'Handbook' });
    expect(parseCommand('knowledge add')).toEqual({ type: 'knowledge.add' });
    expect(parseCommand('knowledge list')).toEqual({ type: 'knowledge.list' });
    expect(parseCommand('knowledge remove abc')).toEqual({ type: 'knowledge.remove', id: 'abc' });
    expect(parseCommand('usage')).toEqual({ type: 'usage' });
  });

  it('rejects bad arguments with the usage line', () => {
    expect(() => parseCommand('channel mode loud')).toThrow(CommandSyntaxError);
    expect(() => parseCommand('channel memory -1')).toThrow(/0 to 100/);
    expect(() => parseCommand('persona create onlyname')).toThrow(/Usage/);
    expect(() => parseCommand('persona create x --temperature hot prompt')).toThrow(/number/);
    expect(() => parseCommand('ask')).toThrow(/Usage/);
  });

  it('help lists admin commands only for admins', () => {
    expect(helpText(true)).toContain('channel mode');
    expect(helpText(false)).not.toContain('channel mode');
    expect(helpText(false)).toContain('persona list');
  });
});

describe('permissions and audit', () => {
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

  const adminOnly = [
    'persona create x Be x.',
    'persona delete x',
    'persona use concise',
    'persona default concise',
    'channel mode all',
    'channel memory 3',
    'memory clear',
    'knowledge list',
    'usage',
  ];

  it.each(adminOnly)('refuses "%s" to a non-admin and changes nothing', async (cmd) => {
    const r = await t.send(`/llm ${cmd}`, { admin: false, channel: 'perm' });
    expect(r.sink.final).toBe(textFor(ErrorCode.AdminOnly, vocabularies.console));
    expect(r.sink.finishOptions?.ephemeral).toBe(true);
    const tenant = (await t.core.tenants.resolve('console', 'acme'))!;
    expect(await t.core.audit.recent(tenant)).toHaveLength(0);
    expect(await t.core.channels.get(tenant, 'perm')).toMatchObject({ mode: 'mention', persona: null });
  });

  it('lets anyone list personas and ask for help', async () => {
    const r = await t.send('/llm persona list');
    expect(r.sink.final).toContain('assistant');
    const h = await t.send('/llm help');
    expect(h.sink.final).not.toContain('channel mode');
  });

  it('applies an admin change and writes an audit row naming the actor', async () => {
    const r = await t.send('/llm persona default concise', { admin: true, user: 'root-admin' });
    expect(r.sink.final).toMatch(/default persona is now \*\*concise\*\*/);
    const tenant = (await t.core.tenants.resolve('console', 'acme'))!;
    expect(tenant.defaultPersona).toBe('concise');
    const [entry] = await t.core.audit.recent(tenant);
    expect(entry).toMatchObject({ actor: 'root-admin', action: 'persona.default', detail: { name: 'concise' } });
    await t.send('hello', { channel: 'fresh' });
    expect(fake.chatRequests().at(-1)!.body.messages[0].content).toMatch(/terse/);
  });

  it('validates personas: names, prompt length, temperature, built-in names', async () => {
    const cases: [string, RegExp][] = [
      ['persona create Bad!Name prompt', /persona name/],
      [`persona create long ${'x'.repeat(4001)}`, /1–4000/],
      ['persona create hot --temperature 5 prompt', /between 0 and 2/],
      ['persona create assistant Override the default.', /built-in/],
      ['persona delete concise', /built in/],
    ];
    for (const [cmd, re] of cases) {
      const r = await t.send(`/llm ${cmd}`, { admin: true });
      expect(r.sink.final).toMatch(re);
    }
  });

  it('a duplicate delivery of the same event is answered once', async () => {
    const before = fake.chatRequests().length;
    const a = await t.send('only once', { eventId: 'Ev-1' });
    const b = await t.send('only once', { eventId: 'Ev-1' });
    expect(a.outcome).toBe('answered');
    expect(b.outcome).toBe('duplicate');
    expect(b.sink.finishCount).toBe(0);
    expect(fake.chatRequests().length).toBe(before + 1);
  });

  it('a disabled or uninstalled tenant gets no answers', async () => {
    await t.core.tenants.install('slack', 'T-DIS');
    await t.core.tenants.setStatus('slack', 'T-DIS', 'disabled');
    const r = await t.send('hello', { platform: 'slack', workspace: 'T-DIS' });
    expect(r.outcome).toBe('tenant_inactive');
    expect(r.sink.final).toBe(textFor(ErrorCode.TenantDisabled, vocabularies.console));
    await t.core.tenants.install('slack', 'T-GONE');
    await t.core.tenants.markUninstalled('slack', 'T-GONE');
    const g = await t.send('hello', { platform: 'slack', workspace: 'T-GONE' });
    expect(g.outcome).toBe('tenant_inactive');
    expect(g.sink.finishCount).toBe(0);
    const n = await t.send('hello', { platform: 'slack', workspace: 'T-NEVER' });
    expect(n.outcome).toBe('no_tenant');
    // Re-installing reactivates an uninstalled tenant but not a disabled one.
    expect((await t.core.tenants.install('slack', 'T-GONE')).status).toBe('active');
    expect((await t.core.tenants.install('slack', 'T-DIS')).status).toBe('disabled');
  });
});
