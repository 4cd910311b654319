/**
 * The Discord adapter end to end: a real discord.js client against the fake Discord (REST +
 * v10 gateway), the real core (engine, stores, database) and the fake Ollama.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../src/app.js';
import type { FakeOllama } from './fakes/ollama.js';
import { Intents, type FakeDiscord, type FakeGuild, type FakeUser, type MessageRecord } from './fakes/discord.js';
import { ADMIN_PERMISSIONS as ADMIN, promptOf, startDiscordStack, waitFor, type DiscordStack } from './helpers/discord-stack.js';

let stack: DiscordStack;
let ollama: FakeOllama;
let discord: FakeDiscord;
let core: Core;
let adapter: DiscordStack['adapter'];
let acme: FakeGuild;
/** Added to the adapter's clock, to reach the end of the 15-minute interaction window. */
let clockSkewMs = 0;
let globex: FakeGuild;
const alice: FakeUser = { id: '100000000000000001', username: 'alice' };
const bob: FakeUser = { id: '100000000000000002', username: 'bob' };

beforeAll(async () => {
  // Every button click is deferred first here (no reply is ever "ready in time"): that path is tested here, the direct one in discord-clicks.test.ts.
  stack = await startDiscordStack({ guilds: { Acme: ['general', 'random'], Globex: ['general'] }, adapter: { now: () => Date.now() + clockSkewMs, clickReplyWithinMs: 0 } });
  ({ ollama, discord, core, adapter } = stack);
  acme = stack.guilds.Acme!;
  globex = stack.guilds.Globex!;
});

afterAll(async () => {
  await stack?.close();
});

describe('gateway connection', () => {
  it('identifies with only the intents it needs, uncompressed JSON v10', () => {
    const [identify] = discord.gateway.identifies;
    expect(identify!.intents).toBe(Intents.Guilds | Intents.GuildMessages | Intents.DirectMessages);
    expect(identify!.query.get('v')).toBe('10');
    expect(identify!.query.get('encoding')).toBe('json');
    expect(identify!.query.get('compress')).toBeNull();
  });

  it('installs a tenant for each guild present at READY', async () => {
    const a = await core.tenants.resolve('discord', acme.id);
    const g = await core.tenants.resolve('discord', globex.id);
    expect(a).toMatchObject({ name: 'Acme', status: 'active' });
    expect(g).toMatchObject({ name: 'Globex', status: 'active' });
  });

  it('registers /ask and /llm globally in one bulk overwrite that Discord accepts', () => {
    const puts = discord.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/commands'));
    expect(puts).toHaveLength(1);
    expect(puts[0]!.path).toBe(`/applications/${discord.applicationId}/commands`);
    const names = discord.commands.get('')!.map((c) => c.name);
    expect(names).toEqual(['ask', 'llm']);
  });
});

describe('slash commands', () => {
  it('defers /ask at once, then edits the reply with the streamed answer', async () => {
    const it1 = discord.invoke({ guild: acme, channel: acme.channels[0]!, user: alice, command: 'ask', values: { question: 'what is the capital of France?' } });
    await waitFor(() => expect(it1.original?.content).toBe('Answer to: what is the capital of France?'));
    expect(it1.callback).toEqual({ type: 5, flags: 0 }); // deferred, public
    expect(discord.requests.findIndex((r) => r.path.startsWith(`/interactions/${it1.id}/`))).toBeLessThan(
      discord.requests.findIndex((r) => r.method === 'PATCH' && r.path.includes(`/${it1.token}/messages/@original`)),
    );
  });

  it('turns subcommands into the grammar, and answers settings ephemerally', async () => {
    const create = discord.invoke({
      guild: acme, channel: acme.channels[0]!, user: alice, command: 'llm', path: ['persona', 'create'],
      values: { name: 'pirate', prompt: 'Arr, you are a pirate' }, permissions: ADMIN,
    });
    await waitFor(() => expect(create.original?.content).toMatch(/pirate/));
    expect(create.callback).toEqual({ type: 5, flags: 64 });
    const list = discord.invoke({ guild: acme, channel: acme.channels[0]!, user: bob, command: 'llm', path: ['persona', 'list'] });
    await waitFor(() => expect(list.original?.content).toContain('pirate'));
  });

  it('refuses admin subcommands to members without Manage Server, checked at run time', async () => {
    const denied = discord.invoke({ guild: acme, channel: acme.channels[1]!, user: bob, command: 'llm', path: ['channel', 'mode'], values: { mode: 'off' } });
    await waitFor(() => expect(denied.original?.content).toBeTruthy());
    expect(denied.original!.content).toMatch(/admin|Manage Server|permission/i);
    const settings = await core.channels.get((await core.tenants.resolve('discord', acme.id))!, acme.channels[1]!.id);
    expect(settings.mode).toBe('mention');

    const allowed = discord.invoke({ guild: acme, channel: acme.channels[1]!, user: alice, command: 'llm', path: ['channel', 'mode'], values: { mode: 'off' }, permissions: ADMIN });
    await waitFor(() => expect(allowed.original?.content).toBeTruthy());
    const after = await core.channels.get((await core.tenants.resolve('discord', acme.id))!, acme.channels[1]!.id);
    expect(after.mode).toBe('off');
  });

  it('offers /llm audit page: from the registry alone, admin only, newest change first', async () => {
    const denied = discord.invoke({ guild: acme, channel: acme.channels[0]!, user: bob, command: 'llm', path: ['audit'], values: { page: 1 } });
    await waitFor(() => expect(denied.original?.content).toMatch(/Manage Server/));
    const change = discord.invoke({ guild: acme, channel: acme.channels[0]!, user: alice, command: 'llm', path: ['channel', 'memory'], values: { messages: 9 }, permissions: ADMIN });
    await waitFor(() => expect(change.original?.content).toMatch(/last 9 messages/));
    const audit = discord.invoke({ guild: acme, channel: acme.channels[0]!, user: alice, command: 'llm', path: ['audit'], values: { page: 1 }, permissions: ADMIN });
    await waitFor(() => expect(audit.original?.content).toMatch(/Page 1 of \d+/));
    expect(audit.callback).toEqual({ type: 5, flags: 64 });
    expect(audit.original!.content.split('\n')[1]).toMatch(new RegExp(`— ${alice.id} — \\*\\*channel\\.memory\\*\\* channel=${acme.channels[0]!.id}, messages=9$`));
  });

  it('splits an answer past 2,000 characters into follow-ups', async () => {
    // 400 tokens (under any answer cap) but about 8,000 characters: four messages.
    const long = Array.from({ length: 400 }, (_, i) => `paragraph-piece-${String(i).padStart(3, '0')}`).join(' ');
    ollama.queueReply(long);
    const it1 = discord.invoke({ guild: globex, channel: globex.channels[0]!, user: bob, command: 'ask', values: { question: 'tell me a long story' } });
    await waitFor(() => {
      const all = [it1.original!.content, ...it1.followUps.map((f) => f.content)].join(' ');
      expect(all.length).toBe(long.length);
      expect(all === long).toBe(true);
    });
    expect(it1.followUps.length).toBeGreaterThanOrEqual(2);
    for (const m of [it1.original!, ...it1.followUps]) expect(m.content.length).toBeLessThanOrEqual(2000);
    // Each message was written few times: edits are coalesced, never one per token.
    expect(it1.original!.edits).toBeLessThan(20);
  });

  it('moves the rest of an answer to the channel when the interaction token has expired', async () => {
    ollama.queueReply('late answer');
    ollama.delayFirstByte(300);
    const it1 = discord.invoke({ guild: globex, channel: globex.channels[0]!, user: bob, command: 'ask', values: { question: 'slow one' } });
    await waitFor(() => expect(it1.callback).not.toBeNull());
    discord.expireInteraction(it1.token);
    await waitFor(() => expect(discord.channelMessages(globex.channels[0]!.id).map((m) => m.content)).toContain('late answer'));
  });
});

describe('platform manners', () => {
  it('posts in the channel instead once the 15-minute interaction window is nearly over', async () => {
    ollama.queueReply('an answer that took a long time');
    ollama.delayFirstByte(200);
    const it1 = discord.invoke({ guild: globex, channel: globex.channels[0]!, user: bob, command: 'ask', values: { question: 'slow again' } });
    await waitFor(() => expect(it1.callback).not.toBeNull());
    // The reply shows "thinking" on the deferral while the model is slow to start; that is in time.
    await waitFor(() => expect(it1.original?.content ?? '').toMatch(/Thinking/));
    const tokenUses = () => discord.requests.filter((r) => r.path.includes(`/webhooks/`) && r.path.includes(it1.token)).length;
    const usedBefore = tokenUses();
    clockSkewMs = 14 * 60_000 + 45_000;
    try {
      await waitFor(() => expect(discord.channelMessages(globex.channels[0]!.id).map((m) => m.content)).toContain('an answer that took a long time'));
      // The token was not used after the deadline.
      expect(tokenUses()).toBe(usedBefore);
    } finally {
      clockSkewMs = 0;
    }
  });

  it("waits out a 429 through discord.js's own rate-limit handling and still delivers", async () => {
    discord.rateLimitNext(/^PATCH \/webhooks\//, 0.3);
    const it1 = discord.invoke({ guild: acme, channel: acme.channels[0]!, user: alice, command: 'ask', values: { question: 'rate limited?' } });
    await waitFor(() => expect(it1.original?.content).toBe('Answer to: rate limited?'));
    const patches = discord.requests.filter((r) => r.method === 'PATCH' && r.path.includes(it1.token));
    expect(patches.length).toBeGreaterThanOrEqual(2); // the refused one and the retry
  });

  it('downloads an attachment from the CDN without the bot token for knowledge add', async () => {
    const it1 = discord.invoke({
      guild: acme, channel: acme.channels[0]!, user: alice, command: 'llm', path: ['knowledge', 'add'], permissions: ADMIN,
      values: { title: 'Handbook' },
      attachment: { name: 'attachment', filename: 'handbook.txt', contentType: 'text/plain', data: Buffer.from('Lunch is served at noon in the atrium.') },
    });
    await waitFor(() => expect(it1.original?.content).toBeTruthy());
    if (core.knowledge) {
      const fetched = discord.requests.filter((r) => r.path.startsWith('/attachments/') && r.path.endsWith('/handbook.txt'));
      expect(fetched).toHaveLength(1);
      expect(fetched[0]!.authorized).toBe(false);
      const docs = await core.knowledge.list((await core.tenants.resolve('discord', acme.id))!);
      expect(docs.map((d) => d.title)).toContain('Handbook');
    } else {
      // No vector store on this database: the engine says so instead of failing silently.
      expect(it1.original!.content).toMatch(/knowledge/i);
    }
  });
});

describe('install flow', () => {
  let base: string;
  beforeAll(async () => {
    base = `http://127.0.0.1:${await core.http.listen(0, '127.0.0.1')}`;
  });

  async function startInstall() {
    const res = await fetch(`${base}/discord/install`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    return { location, cookie, state: location.searchParams.get('state')! };
  }

  it('redirects to the authorize URL with both scopes and the minimal permissions', async () => {
    const { location } = await startInstall();
    expect(location.origin + location.pathname).toBe(`${discord.url}/oauth2/authorize`);
    expect(location.searchParams.get('client_id')).toBe(discord.applicationId);
    expect(location.searchParams.get('scope')).toBe('bot applications.commands');
    expect(location.searchParams.get('permissions')).toBe('274877975552');
    expect(location.searchParams.get('redirect_uri')).toBe(`${core.config.PUBLIC_URL}/discord/oauth_callback`);
  });

  it('exchanges the code on the callback and installs the guild', async () => {
    const g = discord.addGuild('Umbrella', ['general']);
    await core.tenants.markUninstalled('discord', g.id);
    const { state, cookie } = await startInstall();
    const code = discord.issueOAuthCode(g.id);
    const res = await fetch(`${base}/discord/oauth_callback?code=${code}&state=${encodeURIComponent(state)}&guild_id=${g.id}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Umbrella');
    const exchange = discord.requests.find((r) => r.path === '/oauth2/token')!;
    expect(exchange.body).toMatchObject({ grant_type: 'authorization_code', code });
    expect((await core.tenants.resolve('discord', g.id))?.status).toBe('active');
  });

  it('refuses a forged state, another browser, and a reused code', async () => {
    const g = discord.addGuild('Cyberdyne', ['general']);
    const { state, cookie } = await startInstall();
    const forged = state.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const code = discord.issueOAuthCode(g.id);
    const bad = await fetch(`${base}/discord/oauth_callback?code=${code}&state=${encodeURIComponent(forged)}`, { headers: { cookie } });
    expect(bad.status).toBe(400);
    const noCookie = await fetch(`${base}/discord/oauth_callback?code=${code}&state=${encodeURIComponent(state)}`);
    expect(noCookie.status).toBe(400);
    const ok = await fetch(`${base}/discord/oauth_callback?code=${code}&state=${encodeURIComponent(state)}`, { headers: { cookie } });
    expect(ok.status).toBe(200);
    const exchanges = discord.requests.filter((r) => r.path === '/oauth2/token').length;
    const reused = await fetch(`${base}/discord/oauth_callback?code=${code}&state=${encodeURIComponent(state)}`, { headers: { cookie } });
    expect(reused.status).toBe(400);
    expect(await reused.text()).toContain('already used');
    // Refused on our side: Discord never saw a second exchange.
    expect(discord.requests.filter((r) => r.path === '/oauth2/token')).toHaveLength(exchanges);
    expect(reused.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(reused.headers.get('cache-control')).toBe('no-store');
  });
});

describe('mentions', () => {
  it('answers a mention in place: a reply showing the status, then edits', async () => {
    const q = discord.sendMessage({ guild: acme, channel: acme.channels[0]!, author: alice, content: `<@${discord.bot.id}> who are you?`, mentionsBot: true });
    const reply = await waitFor(() => {
      const r = discord.channelMessages(acme.channels[0]!.id).find((m) => m.message_reference?.message_id === q.id);
      expect(r?.content).toBe('Answer to: who are you?');
      return r!;
    });
    expect(reply.history[0]).toBe('⏳ Thinking…');
    expect(reply.author.id).toBe(discord.bot.id);
  });

  it('defers a click ephemerally when its reply is not ready in time, then edits the reply in for the clicker alone', async () => {
    const channel = acme.channels[0]!;
    const q = discord.sendMessage({ guild: acme, channel, author: alice, content: `<@${discord.bot.id}> rate this`, mentionsBot: true });
    const firstButton = (m: MessageRecord | undefined) => (m?.components[0] as { components: { custom_id: string }[] } | undefined)?.components[0]?.custom_id;
    const reply = await waitFor(() => {
      const r = discord.channelMessages(channel.id).find((m) => m.message_reference?.message_id === q.id);
      expect(firstButton(r)).toMatch(/^answer_feedback:positive:/);
      expect(r!.content).toBe('Answer to: rate this');
      return r!;
    });
    const customId = firstButton(reply)!;
    const click = discord.click({ guild: acme, channel, user: bob, message: reply, customId });
    await waitFor(() => expect(click.original?.content).toMatch(/^Thanks for the feedback/));
    expect(click.callback).toEqual({ type: 5, flags: 64 });
    expect(click.original!.flags & 64).toBe(64);
  });

  it('answers a reply to the bot, and ignores other bots and unaddressed chatter', async () => {
    const channel = acme.channels[0]!;
    const botMsg = discord.channelMessages(channel.id).find((m) => m.author.id === discord.bot.id)!;
    const before = ollama.chatRequests().length;
    discord.sendMessage({ guild: acme, channel, author: { id: '100000000000000009', username: 'otherbot', bot: true }, content: `<@${discord.bot.id}> hi`, mentionsBot: true });
    discord.sendMessage({ guild: acme, channel, author: bob, content: 'just chatting' });
    const r = discord.sendMessage({ guild: acme, channel, author: bob, content: 'and what else?', replyTo: botMsg });
    await waitFor(() => expect(discord.channelMessages(channel.id).find((m) => m.message_reference?.message_id === r.id)?.content).toBe('Answer to: and what else?'));
    expect(ollama.chatRequests().length).toBe(before + 1);
  });

  it('points a DM back to a server without spending a model call (a DM has no tenant)', async () => {
    const dm = { id: '100000000000000777', name: '', type: 1 };
    const before = ollama.chatRequests().length;
    const q = discord.sendMessage({ channel: dm, author: alice, content: 'hi there' });
    await waitFor(() => expect(discord.channelMessages(dm.id).find((m) => m.message_reference?.message_id === q.id)?.content).toMatch(/server/));
    expect(ollama.chatRequests().length).toBe(before);
  });

  it('keeps a thread as its own memory scope', async () => {
    const parent = acme.channels[0]!;
    const thread = discord.addThread(acme, parent, 'side topic');
    await waitFor(() => expect(adapter.client.channels.cache.has(thread.id)).toBe(true));
    const t1 = discord.sendMessage({ guild: acme, channel: thread, author: alice, content: `<@${discord.bot.id}> thread fact: KIWI`, mentionsBot: true });
    await waitFor(() => expect(discord.channelMessages(thread.id).some((m) => m.message_reference?.message_id === t1.id && m.content.startsWith('Answer'))).toBe(true));
    const c1 = discord.sendMessage({ guild: acme, channel: parent, author: alice, content: `<@${discord.bot.id}> channel question`, mentionsBot: true });
    await waitFor(() => expect(discord.channelMessages(parent.id).some((m) => m.message_reference?.message_id === c1.id && m.content.startsWith('Answer'))).toBe(true));
    expect(promptOf(ollama.chatRequests().at(-1))).not.toContain('KIWI');
  });
});

describe('tenants', () => {
  it('keeps two guilds apart: one guild memory never reaches the other prompt', async () => {
    const q1 = discord.sendMessage({ guild: acme, channel: acme.channels[0]!, author: alice, content: `<@${discord.bot.id}> my codeword is PAPAYA`, mentionsBot: true });
    await waitFor(() => expect(discord.channelMessages(acme.channels[0]!.id).some((m) => m.message_reference?.message_id === q1.id && m.content.startsWith('Answer'))).toBe(true));
    const it2 = discord.invoke({ guild: globex, channel: globex.channels[0]!, user: bob, command: 'ask', values: { question: 'what is the codeword?' } });
    await waitFor(() => expect(it2.original?.content).toMatch(/^Answer to/));
    const globexPrompt = promptOf(ollama.chatRequests().at(-1));
    expect(globexPrompt).toContain('what is the codeword?');
    expect(globexPrompt).not.toContain('PAPAYA');

    const it3 = discord.invoke({ guild: acme, channel: acme.channels[0]!, user: alice, command: 'ask', values: { question: 'and the codeword?' } });
    await waitFor(() => expect(it3.original?.content).toMatch(/^Answer to/));
    expect(promptOf(ollama.chatRequests().at(-1))).toContain('PAPAYA');
  });

  it('marks a guild uninstalled when the bot is removed, not when the guild is unavailable', async () => {
    const g = discord.addGuild('Initech', ['general']);
    await waitFor(async () => expect((await core.tenants.resolve('discord', g.id))?.status).toBe('active'));
    discord.removeGuild(g.id, true);
    await waitFor(() => expect(adapter.client.guilds.cache.get(g.id)?.available).toBe(false));
    expect((await core.tenants.resolve('discord', g.id))?.status).toBe('active');
    discord.addGuild('Initech', ['general'], g.id); // available again
    discord.removeGuild(g.id);
    await waitFor(async () => expect((await core.tenants.resolve('discord', g.id))?.status).toBe('uninstalled'));
    discord.addGuild('Initech', ['general'], g.id); // re-added
    await waitFor(async () => expect((await core.tenants.resolve('discord', g.id))?.status).toBe('active'));
  });
});
