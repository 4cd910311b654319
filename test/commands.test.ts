/**
 * Commands through the real engine: unknown lines never reach the model, permissions are checked
 * by the adapter's isAdmin, changes are audited, and the stores enforce the registry's limits.
 * (The grammar itself is tested in command-parser.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startTestCore, type TestCore } from './helpers/core.js';
import { ErrorCode, textFor, vocabularies } from '../src/ports/errors.js';
import { personaLimits } from '../src/ports/stores.js';

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
    'audit',
    'audit 2',
  ];

  it.each(adminOnly)('refuses "%s" to a non-admin and changes nothing', async (cmd) => {
    const r = await t.send(`/llm ${cmd}`, { admin: false, channel: 'perm' });
    expect(r.result).toMatchObject({ status: 'refused', replied: true, code: ErrorCode.AdminOnly });
    expect(r.sink.final).toBe(textFor(ErrorCode.AdminOnly, vocabularies.console));
    expect(r.sink.finishOptions?.ephemeral).toBe(true);
    const tenant = (await t.core.tenants.resolve('console', 'acme'))!;
    expect(await t.core.audit.recent(tenant)).toHaveLength(0);
    expect(await t.core.channels.get(tenant, 'perm')).toMatchObject({ mode: 'mention', persona: null });
  });

  it('lets anyone list personas and ask for help, which lists only what the caller may use', async () => {
    const r = await t.send('/llm persona list');
    expect(r.sink.final).toContain('assistant');
    const h = await t.send('/llm help');
    expect(h.outcome).toBe('command');
    expect(h.sink.finishOptions).toMatchObject({ kind: 'notice', ephemeral: true });
    expect(h.sink.final).toContain('persona list');
    expect(h.sink.final).not.toContain('channel mode');
    const a = await t.send('/llm help', { admin: true });
    expect(a.sink.final).toContain('channel mode');
    const bare = await t.send('/llm', { admin: true });
    expect(bare.sink.final).toBe(a.sink.final);
  });

  const neverAsked = [
    ['/llm foo', 'Unknown command `foo`'],
    ['/llm what is the capital of France?', 'Unknown command `what`'],
    ['/llm knowlege list', 'Did you mean `knowledge list`?'],
    ['persona lst', 'Did you mean `persona list`?'],
    ['knowlege list', 'Did you mean `knowledge list`?'],
  ];

  it.each(neverAsked)('answers "%s" with "unknown command" and never calls the model', async (line, expected) => {
    const before = fake.chatRequests().length;
    const r = await t.send(line, { admin: true });
    expect(r.result).toMatchObject({ status: 'refused', replied: true, code: ErrorCode.CommandUnknown });
    expect(r.sink.final).toContain(expected);
    expect(r.sink.final).toContain('`help` lists the commands');
    expect(r.sink.finishOptions?.ephemeral).toBe(true);
    expect(r.sink.started).toBe(0);
    expect(fake.chatRequests().length).toBe(before);
  });

  it("treats a slash command's text as a command even when it reads like a question", async () => {
    const before = fake.chatRequests().length;
    const r = await t.send('what is up', { kind: 'command' });
    expect(r.result.code).toBe(ErrorCode.CommandUnknown);
    expect(fake.chatRequests().length).toBe(before);
  });

  it('answers a mention that only looks a little like a command as a question', async () => {
    const before = fake.chatRequests().length;
    const r = await t.send('persona of a pirate?', { channel: 'questions' });
    expect(r.outcome).toBe('answered');
    expect(fake.chatRequests().length).toBe(before + 1);
    expect(fake.chatRequests().at(-1)!.body.messages.at(-1).content).toBe('persona of a pirate?');
  });

  it('refuses bad arguments with the usage line before any store is touched', async () => {
    const r = await t.send('/llm channel memory 500', { admin: true, channel: 'usage-line' });
    expect(r.result).toMatchObject({ status: 'refused', code: ErrorCode.CommandUsage });
    expect(r.sink.final).toContain('Usage: `channel memory <messages>`');
    const tenant = (await t.core.tenants.resolve('console', 'acme'))!;
    expect((await t.core.channels.get(tenant, 'usage-line')).memoryMessages).toBeNull();
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

  it('enforces the same persona limits in the store as in the grammar', async () => {
    const tenant = (await t.core.tenants.resolve('console', 'acme'))!;
    const { maxTokens, temperature, systemPrompt } = personaLimits;
    const base = { name: 'limits', systemPrompt: 'Be brief.' };
    await expect(t.core.personas.create(tenant, { ...base, maxTokens: maxTokens.max + 1 }, 'x')).rejects.toThrow(`from ${maxTokens.min} to ${maxTokens.max}`);
    await expect(t.core.personas.create(tenant, { ...base, temperature: temperature.max + 0.5 }, 'x')).rejects.toThrow(/between 0 and 2/);
    await expect(t.core.personas.create(tenant, { ...base, systemPrompt: 'p'.repeat(systemPrompt.maxLength + 1) }, 'x')).rejects.toThrow(/1–4000/);
    await expect(t.core.personas.create(tenant, { ...base, name: 'n'.repeat(33) }, 'x')).rejects.toThrow(/persona name/);
    const ok = await t.core.personas.create(tenant, { ...base, name: 'n'.repeat(32), maxTokens: maxTokens.max, temperature: temperature.max }, 'x');
    expect(ok).toMatchObject({ maxTokens: maxTokens.max, temperature: temperature.max });
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

describe('audit', () => {
  let db: TestDatabase;
  let fake: FakeOllama;
  let t: TestCore;
  beforeAll(async () => {
    db = await createTestDatabase();
    fake = await startFakeOllama();
    t = await startTestCore(db.database, fake.url);
    // Two tenants with histories of their own; ids grow with time, so n=23 is the newest.
    const audited = await t.core.tenants.ensure('console', 'audited');
    const other = await t.core.tenants.ensure('console', 'other');
    for (let n = 1; n <= 23; n++) await t.core.audit.record(audited, `admin-${n}`, 'channel.mode', { channel: 'general', mode: 'all', n });
    for (let n = 1; n <= 5; n++) await t.core.audit.record(other, 'intruder', 'persona.delete', { name: `secret-${n}` });
  });
  afterAll(async () => {
    await t?.core.close();
    await fake?.close();
    await db?.drop();
  });

  const entryLines = (text: string) => text.split('\n').filter((l) => l.startsWith('• '));

  it('shows the newest ten admin changes first, each with time, who, action and detail', async () => {
    const r = await t.send('/llm audit', { workspace: 'audited', admin: true });
    expect(r.outcome).toBe('command');
    expect(r.sink.finishOptions).toMatchObject({ kind: 'notice', ephemeral: true });
    const lines = entryLines(r.sink.final!);
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/^• \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC — admin-23 — \*\*channel\.mode\*\* channel=general, mode=all, n=23$/);
    expect(lines.map((l) => Number(/n=(\d+)$/.exec(l)![1]))).toEqual([23, 22, 21, 20, 19, 18, 17, 16, 15, 14]);
    expect(r.sink.final).toContain('Page 1 of 3 (`audit 2` for older)');
  });

  it('pages back to the oldest, and says how many pages there are when asked for one too many', async () => {
    const last = await t.send('/llm audit 3', { workspace: 'audited', admin: true });
    expect(entryLines(last.sink.final!).map((l) => Number(/n=(\d+)$/.exec(l)![1]))).toEqual([3, 2, 1]);
    expect(last.sink.final).toMatch(/Page 3 of 3$/);
    const beyond = await t.send('/llm audit 4', { workspace: 'audited', admin: true });
    expect(beyond.result).toMatchObject({ status: 'refused', code: ErrorCode.NotFound });
    expect(beyond.sink.final).toBe('There is no page 4: the audit log has 3 pages.');
  });

  it("never shows another tenant's entries", async () => {
    const pages = await Promise.all([1, 2, 3].map((p) => t.send(`/llm audit ${p}`, { workspace: 'audited', admin: true })));
    const all = pages.flatMap((p) => entryLines(p.sink.final!));
    expect(all).toHaveLength(23);
    expect(all.join('\n')).not.toMatch(/intruder|secret/);
    const other = await t.send('/llm audit', { workspace: 'other', admin: true });
    expect(entryLines(other.sink.final!)).toHaveLength(5);
    expect(other.sink.final).not.toContain('admin-');
    expect(await t.core.audit.count((await t.core.tenants.resolve('console', 'other'))!)).toBe(5);
  });

  it('records the changes made by commands, and says so when there are none', async () => {
    const empty = await t.send('/llm audit', { workspace: 'quiet', admin: true });
    expect(empty.sink.final).toBe('No admin changes recorded yet.');
    await t.send('/llm channel memory 7', { workspace: 'quiet', admin: true, user: 'root-admin', channel: 'ops' });
    const r = await t.send('audit', { workspace: 'quiet', admin: true });
    expect(entryLines(r.sink.final!)).toEqual([expect.stringMatching(/ — root-admin — \*\*channel\.memory\*\* channel=ops, messages=7$/)]);
    expect(r.sink.final).toMatch(/Page 1 of 1$/);
  });

  it('refuses a page that is not a whole number of 1 or more with the usage line', async () => {
    const r = await t.send('/llm audit 0', { workspace: 'audited', admin: true });
    expect(r.result).toMatchObject({ status: 'refused', code: ErrorCode.CommandUsage });
    expect(r.sink.final).toContain('Usage: `audit [<page>]`');
  });
});

