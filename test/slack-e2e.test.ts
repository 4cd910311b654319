/**
 * The real Bolt app, mounted on the real core, against a fake Slack Web API (SLACK_API_URL) and a
 * fake Ollama: two workspaces installed through the real OAuth routes, signed deliveries,
 * streaming and its fallbacks, commands, admin rights, uninstall.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCore, type Core } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import { eq } from 'drizzle-orm';
import { answerJobs, installations, messages } from '../src/db/schema.js';
import { startSlack, type SlackAdapter } from '../adapters/slack/index.js';
import type { TestDatabase } from './helpers/db.js';
import type { FakeOllama } from './fakes/ollama.js';
import { deliver, eventEnvelope, mentionEvent, messageEvent, slashCommand, type FakeSlack, type FakeWorkspace } from './fakes/slack-api.js';
import { SIGNING_SECRET, startSlackHarness, type SlackHarness } from './helpers/slack-harness.js';

let h: SlackHarness;
let slack: FakeSlack;
let ollama: FakeOllama;
let tdb: TestDatabase;
let core: Core;
let adapter: SlackAdapter;
let base: string;
let cfg: Core['config'];
let handled: string[];
let logLines: string[];
let acme: FakeWorkspace;
let beta: FakeWorkspace;
let uninstallBeta: Record<string, unknown>;
const install = (ws: FakeWorkspace) => h.install(ws);
const send = (payload: Record<string, unknown>, o = {}) => h.send(payload, o);
const waitHandled = (n: number) => h.waitHandled(n);

beforeAll(async () => {
  h = await startSlackHarness();
  ({ slack, ollama, tdb, core, adapter, base, cfg, handled, logLines, acme, beta } = h);
});

afterAll(async () => {
  await h?.close();
});

describe.sequential('Slack adapter end to end', () => {
  it('installs two workspaces through the OAuth routes, with the exchange on SLACK_API_URL', async () => {
    for (const ws of [acme, beta]) {
      const done = await install(ws);
      expect(done.status).toBe(200);
      const tenant = await core.tenants.resolve('slack', ws.teamId);
      expect(tenant).toMatchObject({ status: 'active', name: ws.teamName, installedBy: ws.installerUserId });
    }
    expect(slack.callsOf('oauth.v2.access').map((c) => c.args.code)).toEqual(['code-acme', 'code-beta']);
    expect(slack.callsOf('auth.test').map((c) => c.token)).toEqual(['xoxb-acme-secret', 'xoxb-beta-secret']);
    // Tokens are sealed at rest.
    const rows = await tdb.database.db.select().from(installations);
    expect(rows.map((r) => r.installationKey).sort()).toEqual(['TACME', 'TBETA']);
    for (const r of rows) expect(r.ciphertext).not.toMatch(/xoxb/);
    // Each installer got a welcome DM with their own workspace's token.
    expect(slack.messages.filter((m) => m.channel === 'UINSTA').map((m) => m.token)).toEqual(['xoxb-acme-secret']);
    expect(slack.messages.filter((m) => m.channel === 'UINSTB').map((m) => m.token)).toEqual(['xoxb-beta-secret']);
  });

  it('refuses an OAuth redirect without the state cookie', async () => {
    const start = await fetch(`${base}/slack/install`, { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const res = await fetch(`${base}/slack/oauth_redirect?code=${acme.code}&state=${state}`);
    expect(res.status).toBe(400);
    expect(slack.callsOf('oauth.v2.access')).toHaveLength(2);
  });

  it('a state works once: replaying a completed callback is refused without a second code exchange', async () => {
    const start = await fetch(`${base}/slack/install`, { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
    const first = await fetch(`${base}/slack/oauth_redirect?code=${acme.code}&state=${encodeURIComponent(state)}`, { headers: { cookie } });
    expect(first.status).toBe(200);
    const exchanges = slack.callsOf('oauth.v2.access').length;
    const replay = await fetch(`${base}/slack/oauth_redirect?code=${acme.code}&state=${encodeURIComponent(state)}`, { headers: { cookie } });
    expect(replay.status).toBe(400);
    expect(slack.callsOf('oauth.v2.access')).toHaveLength(exchanges);
  });

  it('install pages are never framed, cached or leaked by referrer, and the state cookie is SameSite=Lax', async () => {
    const start = await fetch(`${base}/slack/install`, { redirect: 'manual' });
    expect(start.headers.get('set-cookie')).toMatch(/slack-app-oauth-state=[^;]+;.*HttpOnly.*SameSite=Lax/);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const done = await fetch(`${base}/slack/oauth_redirect?code=nope&state=${encodeURIComponent(state)}`);
    for (const res of [start, done]) {
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('answers each workspace with its own token in the right thread, streaming', async () => {
    ollama.reply = (req: any) => `Answer for ${req.messages.at(-1).content} with **bold** words and more words to stream`;
    const n = handled.length;
    const a = await send(eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: 'hello acme', ts: '1000.000100' })));
    expect(a.status).toBe(200);
    // A mention inside an existing Beta thread: the earlier messages come along.
    slack.addMessage({ channel: 'CBETA', ts: '2000.000100', user: 'UPLAINB', text: 'we deploy on fridays' });
    slack.addMessage({ channel: 'CBETA', ts: '2000.000200', user: 'UOWNB', text: 'only before noon', threadTs: '2000.000100' });
    const b = await send(eventEnvelope(beta, mentionEvent(beta, { channel: 'CBETA', user: 'UPLAINB', text: 'when do we deploy?', ts: '2000.000300', threadTs: '2000.000100' })));
    expect(b.status).toBe(200);
    await waitHandled(n + 2);

    const [ma] = slack.botMessages('xoxb-acme-secret').filter((m) => m.channel === 'CGEN');
    expect(ma).toMatchObject({ threadTs: '1000.000100', streaming: false });
    // The answer's text is its Markdown block (the message text is the mrkdwn fallback), with the feedback buttons under it.
    expect(ma!.blocks?.[0]).toMatchObject({ type: 'markdown', text: expect.stringContaining('Answer for hello acme with **bold** words and more words to stream') });
    expect(ma!.text).toContain('Answer for hello acme with *bold* words');
    expect(ma!.blocks?.[1]).toMatchObject({ type: 'context_actions', elements: [{ type: 'feedback_buttons', action_id: 'answer_feedback' }] });
    const [mb] = slack.botMessages('xoxb-beta-secret').filter((m) => m.channel === 'CBETA');
    expect(mb).toMatchObject({ threadTs: '2000.000100', streaming: false });
    expect(mb!.text).toContain('Answer for when do we deploy?');
    // Streamed natively, each call with the workspace's own token.
    for (const m of ['chat.startStream', 'chat.stopStream']) {
      expect(new Set(slack.callsOf(m).map((c) => c.token))).toEqual(new Set(['xoxb-acme-secret', 'xoxb-beta-secret']));
    }
    expect(slack.callsOf('chat.appendStream').length).toBeGreaterThan(0);
    expect(slack.callsOf('conversations.replies').map((c) => c.token)).toEqual(['xoxb-beta-secret']);
    const betaPrompt = ollama.chatRequests().map((r: any) => JSON.stringify(r.body.messages)).find((s: string) => s.includes('when do we deploy?'))!;
    expect(betaPrompt).toContain('we deploy on fridays');
    expect(betaPrompt).toContain('only before noon');
  });

  it('refuses a forged signature and a stale timestamp, and ignores a replayed retry', async () => {
    const before = slack.messages.length;
    const forged = await send(eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: 'forged', ts: '1100.000100' })), { signature: 'v0=' + '0'.repeat(64) });
    expect(forged.status).toBe(401);
    const stale = await send(eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: 'stale', ts: '1100.000200' })), { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    // Bolt checks only the past; a signed request dated in the future would stay replayable.
    const future = await send(eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: 'future', ts: '1100.000250' })), { timestamp: Math.floor(Date.now() / 1000) + 6 * 60 });
    expect(future.status).toBe(401);

    const n = handled.length;
    const payload = eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: 'once only', ts: '1100.000300' }));
    expect((await send(payload)).status).toBe(200);
    expect((await send(payload, { retryNum: 1 })).status).toBe(200);
    // The retry is a duplicate, or (when the first was still waiting to be claimed) takes the same job over: one job either way.
    await vi.waitFor(() => expect(handled.slice(n)).toContain('job:answered'), { timeout: 15_000, interval: 20 });
    const answers = slack.messages.slice(before).filter((m) => m.token === 'xoxb-acme-secret' && m.threadTs === '1100.000300');
    expect(answers).toHaveLength(1);
    expect(slack.messages.slice(before).some((m) => /forged|stale|future/.test(m.text))).toBe(false);
  });

  it('falls back to chat.update where streaming is not allowed, and remembers it', async () => {
    slack.streamBehaviour = 'not_allowed';
    const n = handled.length;
    await send(eventEnvelope(beta, mentionEvent(beta, { channel: 'CBETA', user: 'UPLAINB', text: 'fallback please', ts: '2100.000100' })));
    await waitHandled(n + 1);
    const [m] = slack.botMessages('xoxb-beta-secret').filter((x) => x.threadTs === '2100.000100');
    expect(m!.text).toContain('Answer for fallback please with *bold* words');
    expect(m!.edits).toBeGreaterThanOrEqual(1);
    const refusals = slack.callsOf('chat.startStream').filter((c) => c.error === 'not_allowed').length;
    expect(refusals).toBe(1);
    // The next reply in that workspace does not try to stream again.
    await send(eventEnvelope(beta, mentionEvent(beta, { channel: 'CBETA', user: 'UPLAINB', text: 'again', ts: '2100.000200' })));
    await waitHandled(n + 2);
    expect(slack.callsOf('chat.startStream').filter((c) => c.token === 'xoxb-beta-secret' && c.error)).toHaveLength(1);
    slack.streamBehaviour = 'ok';
  });

  it('skips progress edits after a 429 and still delivers the whole answer (chat.update path)', async () => {
    ollama.reply = () => Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    // A long Retry-After: the progress client must not wait it out, and no edit follows within it.
    slack.rateLimit('chat.update', 1, 30);
    const n = handled.length;
    await send(eventEnvelope(beta, mentionEvent(beta, { channel: 'CBETA', user: 'UPLAINB', text: 'long one', ts: '2200.000100' })));
    await waitHandled(n + 1);
    const updates = slack.callsOf('chat.update').filter((c) => c.token === 'xoxb-beta-secret');
    const limited = updates.findIndex((c) => c.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    // The refused call was a progress edit (marked with a trailing ellipsis); only the final edit came after it.
    expect(String(updates[limited]!.args.text)).toMatch(/…$/);
    expect(updates.slice(limited + 1).map((c) => c.status)).toEqual([200]);
    const [m] = slack.botMessages('xoxb-beta-secret').filter((x) => x.threadTs === '2200.000100');
    expect(m!.text).toBe(Array.from({ length: 60 }, (_, i) => `w${i}`).join(' '));
  });

  it('skips stream appends after a 429 and the final stop carries the rest', async () => {
    slack.rateLimit('chat.appendStream', 1, 30);
    const appendsBefore = slack.callsOf('chat.appendStream').length;
    const n = handled.length;
    await send(eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: 'long stream', ts: '1200.000100' })));
    await waitHandled(n + 1);
    const appends = slack.callsOf('chat.appendStream').slice(appendsBefore);
    // The first append was refused; no append followed within the Retry-After.
    expect(appends.map((c) => c.status)).toEqual([429]);
    const [m] = slack.botMessages('xoxb-acme-secret').filter((x) => x.threadTs === '1200.000100');
    expect(m!.text).toBe(Array.from({ length: 60 }, (_, i) => `w${i}`).join(' '));
  });

  it('drops NUL characters at the door instead of losing the question', async () => {
    ollama.reply = (req: any) => `echo ${String(req.messages.at(-1).content)}`;
    const n = handled.length;
    expect((await send(eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: 'nul\u0000 inside', ts: '2300.000100' })))).status).toBe(200);
    await waitHandled(n + 1);
    const [answer] = slack.botMessages('xoxb-acme-secret').filter((m) => m.threadTs === '2300.000100');
    expect(answer!.text).toBe('echo nul inside');
  });

  it('refuses a question longer than MAX_QUESTION_CHARS with the limit, never sending it or keeping it whole', async () => {
    const asked = ollama.chatRequests().length;
    const n = handled.length;
    const long = 'why '.repeat(2_100); // 8,400 characters; the limit is 8,000
    await send(eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: long, ts: '2300.000200' })));
    await waitHandled(n + 1);
    const reply = slack.callsOf('chat.postEphemeral').find((c) => c.args.thread_ts === '2300.000200');
    expect(reply?.args.text).toMatch(/8,000 characters/);
    expect(ollama.chatRequests().length).toBe(asked);
    expect(await tdb.database.db.select({ id: messages.id }).from(messages).where(eq(messages.threadId, '2300.000200'))).toEqual([]);
    const [job] = await tdb.database.db.select({ text: answerJobs.text }).from(answerJobs).where(eq(answerJobs.threadId, '2300.000200'));
    expect(job!.text.length).toBeLessThanOrEqual(8_001);
  });

  it('refuses an admin command from someone outside the workspace (a shared channel) with what was refused', async () => {
    const n = handled.length;
    const res = await send(slashCommand(slack, acme, { channel: 'CGEN', user: 'UFOREIGN', text: 'channel mode all', responseId: 'r-foreign' }), { form: true });
    expect(res.status).toBe(200);
    await waitHandled(n + 1);
    expect(slack.responses.filter((r) => r.id === 'r-foreign').map((r) => r.body.text)).toEqual(['Only members of this workspace can do that.']);
  });

  it('one answer at a time per thread: messages that arrive meanwhile wait, and are answered together next, with the first answer in the history', async () => {
    ollama.tokenDelayMs = 30;
    ollama.reply = (req: any) => `reply to [${String(req.messages.at(-1).content).replace(/\n+/g, ' / ')}] ${'x '.repeat(20)}`;
    const asked = ollama.chatRequests().length;
    const n = handled.length;
    await send(eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: 'first question', ts: '2400.000100' })));
    await vi.waitFor(() => expect(slack.botMessages('xoxb-acme-secret').some((m) => m.threadTs === '2400.000100')).toBe(true), { timeout: 10_000, interval: 10 });
    // Two quick follow-ups in the thread while the first answer is still being written.
    for (const [i, text] of ['second question', 'third question'].entries()) {
      await send(eventEnvelope(acme, messageEvent(acme, { channel: 'CGEN', channelType: 'channel', user: 'UPLAINA', text, ts: `2400.00020${i}`, threadTs: '2400.000100' })));
    }
    await waitHandled(n + 3);
    ollama.tokenDelayMs = 0;
    const calls = ollama.chatRequests().slice(asked).map((r) => r.body.messages as { role: string; content: string }[]);
    // Two model calls, never at once for the thread: the first question, then the two follow-ups as one turn.
    expect(calls.map((m) => m.at(-1)!.content)).toEqual(['first question', 'second question\n\nthird question']);
    expect(calls[1]!.slice(0, -1).map((m) => m.content)).toEqual(expect.arrayContaining(['first question', expect.stringContaining('reply to [first question]')]));
    const answers = slack.botMessages('xoxb-acme-secret').filter((m) => m.threadTs === '2400.000100');
    expect(answers.map((m) => m.text.split(' x')[0])).toEqual(['reply to [first question]', 'reply to [second question / third question]']);
  });

  it('answers a DM in the DM and ignores bots', async () => {
    ollama.reply = (req: any) => `DM answer to ${req.messages.at(-1).content}`;
    const n = handled.length;
    await send(eventEnvelope(acme, messageEvent(acme, { channel: 'DACME1', channelType: 'im', user: 'UPLAINA', text: 'private question', ts: '1300.000100' })));
    await send(eventEnvelope(acme, messageEvent(acme, { channel: 'DACME1', channelType: 'im', botId: 'BOTHER', text: 'beep', ts: '1300.000200' })));
    await waitHandled(n + 2);
    const dms = slack.botMessages('xoxb-acme-secret').filter((m) => m.channel === 'DACME1');
    expect(dms).toHaveLength(1);
    expect(dms[0]).toMatchObject({ text: 'DM answer to private question', threadTs: undefined });
  });

  it('/llm: settings are admin-only (admin, owner or installer) and answered ephemerally', async () => {
    const cmd = async (ws: FakeWorkspace, user: string, text: string, id: string) => {
      const n = handled.length;
      const res = await send(slashCommand(slack, ws, { channel: 'CGEN', user, text, responseId: id }), { form: true });
      expect(res.status).toBe(200);
      await waitHandled(n + 1);
      return slack.responses.filter((r) => r.id === id).map((r) => r.body);
    };
    const refused = await cmd(acme, 'UPLAINA', 'channel mode all', 'r1');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ response_type: 'ephemeral' });
    expect(String(refused[0]!.text)).toMatch(/admin/i);
    expect((await core.channels.get((await core.tenants.resolve('slack', 'TACME'))!, 'CGEN')).mode).toBe('mention');

    const byAdmin = await cmd(acme, 'UADMA', 'channel mode all', 'r2');
    expect(byAdmin[0]).toMatchObject({ response_type: 'ephemeral' });
    expect((await core.channels.get((await core.tenants.resolve('slack', 'TACME'))!, 'CGEN')).mode).toBe('all');
    // The installer is an admin without being a workspace admin.
    const byInstaller = await cmd(acme, 'UINSTA', 'channel mode mention', 'r3');
    expect(byInstaller[0]).toMatchObject({ response_type: 'ephemeral' });
    expect((await core.channels.get((await core.tenants.resolve('slack', 'TACME'))!, 'CGEN')).mode).toBe('mention');
    // Beta's owner is an admin in Beta.
    await cmd(beta, 'UOWNB', 'channel mode all', 'r4');
    expect((await core.channels.get((await core.tenants.resolve('slack', 'TBETA'))!, 'CGEN')).mode).toBe('all');
    expect(slack.callsOf('users.info').map((c) => [c.token, c.args.user])).toEqual(
      expect.arrayContaining([['xoxb-acme-secret', 'UPLAINA'], ['xoxb-acme-secret', 'UADMA'], ['xoxb-beta-secret', 'UOWNB']]),
    );
  });

  it('/llm ask streams into the channel, or answers through response_url where the bot is not a member', async () => {
    ollama.reply = (req: any) => `command answer to ${req.messages.at(-1).content}`;
    let n = handled.length;
    await send(slashCommand(slack, acme, { channel: 'CASK', user: 'UPLAINA', text: 'ask what is up', responseId: 'r5' }), { form: true });
    await waitHandled(n + 1);
    expect(slack.botMessages('xoxb-acme-secret').filter((m) => m.channel === 'CASK').map((m) => m.text)).toEqual(['command answer to what is up']);

    slack.notInChannel.add('CPRIV');
    n = handled.length;
    await send(slashCommand(slack, acme, { channel: 'CPRIV', user: 'UPLAINA', text: 'ask anyone home', responseId: 'r6' }), { form: true });
    await waitHandled(n + 1);
    expect(slack.responses.filter((r) => r.id === 'r6').map((r) => r.body)).toEqual([
      expect.objectContaining({ response_type: 'in_channel', text: 'command answer to anyone home' }),
    ]);
  });

  it('knowledge add takes the file attached to the mention, downloaded with that workspace token', async () => {
    const file = slack.addFile({ id: 'FHB', teamId: 'TACME', name: 'handbook.md', mimetype: 'text/markdown', data: Buffer.from('# Handbook\nDeploys happen on Tuesdays after lunch.') });
    const n = handled.length;
    const before = slack.callsOf('chat.postEphemeral').length;
    await send(eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UADMA', text: 'knowledge add Handbook', ts: '1450.000100', files: [slack.fileObject(file)] })));
    await waitHandled(n + 1);
    const [reply] = slack.callsOf('chat.postEphemeral').slice(before);
    expect(reply!.args).toMatchObject({ channel: 'CGEN', user: 'UADMA', thread_ts: '1450.000100' });
    if (core.knowledge) {
      expect(String(reply!.args.text)).toMatch(/Added \*Handbook\*/);
      expect(slack.callsOf('files.download').filter((c) => c.args.id === 'FHB').map((c) => c.token)).toEqual(['xoxb-acme-secret']);
    } else {
      // No vector store on this deployment: the admin is told so (and nothing is fetched).
      expect(String(reply!.args.text)).toMatch(/knowledge|vector|not available/i);
    }
  });

  it('passes channel chatter unaddressed: answered only where the channel mode is all', async () => {
    ollama.reply = () => 'ambient answer';
    const n = handled.length;
    await send(eventEnvelope(beta, messageEvent(beta, { channel: 'CGEN', channelType: 'channel', user: 'UPLAINB', text: 'anyone?', ts: '2300.000100' })));
    await send(eventEnvelope(acme, messageEvent(acme, { channel: 'CGEN', channelType: 'channel', user: 'UPLAINA', text: 'anyone?', ts: '1400.000100' })));
    await waitHandled(n + 2);
    expect(slack.botMessages('xoxb-beta-secret').filter((m) => m.threadTs === '2300.000100').map((m) => m.text)).toEqual(['ambient answer']);
    expect(slack.botMessages('xoxb-acme-secret').filter((m) => m.threadTs === '1400.000100')).toHaveLength(0);
  });

  it('exactly once across two instances sharing the database', async () => {
    const db2 = tdb.url ? await (await import('../src/db/client.js')).openDatabase({ url: tdb.url, maxConnections: 3 }) : tdb.database;
    // Same config (same ENCRYPTION_KEY) as a second replica would have.
    const core2 = await createCore(cfg, { database: db2, logger: createLogger('silent') });
    const handled2: string[] = [];
    await startSlack(core2, { minUpdateIntervalMs: 20, onHandled: (w) => handled2.push(w) });
    const base2 = `http://127.0.0.1:${await core2.http.listen(0, '127.0.0.1')}`;
    try {
      ollama.reply = () => 'one answer';
      const n = handled.length;
      const payload = eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: 'both instances', ts: '1500.000100' }));
      const [r1, r2] = await Promise.all([
        deliver(`${base}/slack/events`, SIGNING_SECRET, payload),
        deliver(`${base2}/slack/events`, SIGNING_SECRET, payload, { retryNum: 1 }),
      ]);
      expect([r1.status, r2.status]).toEqual([200, 200]);
      // One instance stored the job and answered it; the other found it already stored (or, when the
      // first left it waiting to be claimed, took that same job over): one job, answered once.
      await vi.waitFor(() => expect([...handled.slice(n), ...handled2]).toContain('job:answered'), { timeout: 15_000, interval: 20 });
      await core2.jobs.drain(5_000);
      expect([...handled.slice(n), ...handled2].filter((w) => w.startsWith('job:'))).toEqual(['job:answered']);
      expect(slack.botMessages('xoxb-acme-secret').filter((m) => m.threadTs === '1500.000100')).toHaveLength(1);
    } finally {
      await core2.close();
      if (db2 !== tdb.database) await db2.close();
    }
  });

  it('rotates an expiring bot token through SLACK_API_URL and answers with the new one', async () => {
    const rot = slack.addWorkspace({
      teamId: 'TROT', teamName: 'Rotating', botUserId: 'UBOTR', botId: 'BBOTR', botToken: 'xoxe.xoxb-rot', installerUserId: 'UINSTR', code: 'code-rot',
      rotateAfterSec: 3600, users: { UR: {} },
    });
    expect((await install(rot)).status).toBe(200);
    expect((await adapter.store.find('TROT'))?.bot).toMatchObject({ token: 'xoxe.xoxb-rot', refreshToken: 'xoxe-refresh-TROT-0' });
    ollama.reply = () => 'fresh token answer';
    const n = handled.length;
    // Expiring within two hours: Bolt's authorize refreshes before handling the event.
    await send(eventEnvelope(rot, mentionEvent(rot, { channel: 'CROT', user: 'UR', text: 'hi', ts: '1700.000100' })));
    await waitHandled(n + 1);
    const refresh = slack.callsOf('oauth.v2.access').filter((c) => c.args.grant_type === 'refresh_token');
    expect(refresh.map((c) => c.args.refresh_token)).toEqual(['xoxe-refresh-TROT-0']);
    const stored = await adapter.store.find('TROT');
    expect(stored?.bot?.token).toMatch(/^xoxe\.xoxb-rot\.r\d+$/);
    expect(stored?.bot?.refreshToken).not.toBe('xoxe-refresh-TROT-0');
    const answers = slack.botMessages(stored!.bot!.token).filter((m) => m.threadTs === '1700.000100');
    expect(answers.map((m) => m.text)).toEqual(['fresh token answer']);
  });

  it('app_uninstalled deletes the tokens and marks the tenant uninstalled', async () => {
    const n = handled.length;
    uninstallBeta = eventEnvelope(beta, { type: 'app_uninstalled', event_ts: '2400.000100' });
    const res = await send(uninstallBeta);
    expect(res.status).toBe(200);
    await waitHandled(n + 1);
    expect(await adapter.store.find('TBETA')).toBeNull();
    expect((await core.tenants.resolve('slack', 'TBETA'))?.status).toBe('uninstalled');
    // Events for the uninstalled workspace no longer authorize: nothing is posted.
    const before = slack.calls.length;
    const m = handled.length;
    await send(eventEnvelope(beta, mentionEvent(beta, { channel: 'CBETA', user: 'UPLAINB', text: 'still there?', ts: '2400.000200' })));
    await waitHandled(m + 1);
    expect(handled.at(-1)).toBe('error');
    expect(slack.calls.slice(before).filter((c) => c.token === 'xoxb-beta-secret')).toHaveLength(0);
    // Reinstalling reactivates the same tenant.
    expect((await install(beta)).status).toBe(200);
    expect((await core.tenants.resolve('slack', 'TBETA'))?.status).toBe('active');
  });

  it('a replayed or late uninstall never deletes the fresh re-install', async () => {
    const n = handled.length;
    // Slack's retry of the uninstall already handled...
    await send(uninstallBeta, { retryNum: 1 });
    // ...and another uninstall event dated before the re-install (delayed in transit).
    const late = { ...eventEnvelope(beta, { type: 'app_uninstalled', event_ts: '2400.000300' }), event_time: Math.floor(Date.now() / 1000) - 120 };
    await send(late);
    await waitHandled(n + 2);
    expect((await adapter.store.find('TBETA'))?.bot?.token).toBe('xoxb-beta-secret');
    expect((await core.tenants.resolve('slack', 'TBETA'))?.status).toBe('active');
  });

  it('tokens_revoked for the bot token uninstalls as well', async () => {
    const n = handled.length;
    await send(eventEnvelope(acme, { type: 'tokens_revoked', tokens: { bot: ['UBOTA'] }, event_ts: '1600.000100' }));
    await waitHandled(n + 1);
    expect(await adapter.store.find('TACME')).toBeNull();
    expect((await core.tenants.resolve('slack', 'TACME'))?.status).toBe('uninstalled');
  });

  it('logged neither a token nor message text', () => {
    const all = logLines.join('');
    expect(logLines.length).toBeGreaterThan(10);
    expect(all).toContain('slack app installed');
    for (const secret of ['xoxb-', 'xoxe', 'hello acme', 'private question', 'we deploy on fridays', SIGNING_SECRET, slack.clientSecret]) {
      expect(all).not.toContain(secret);
    }
  });
});
