/**
 * The Discord ReplySinks (adapters/discord/sinks.ts), driven by the core's ReplyStream, with real
 * discord.js interactions and messages from a client connected to the fake Discord. The ReplySink
 * contract runs on an interaction deferred publicly, one deferred ephemerally, and a reply to a
 * message (which cannot be private); then the status and the answer buttons of each.
 */
import { Client, Events, GatewayIntentBits, MessageFlags, Routes, type ChatInputCommandInteraction, type Message } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyStream } from '../src/core/reply/stream.js';
import { DISCORD_UPDATE_INTERVAL_MS, InteractionReplySink, MessageReplySink, type InteractionTarget } from '../adapters/discord/sinks.js';
import { commandRegistrationBody } from '../adapters/discord/commands.js';
import { startFakeDiscord, type FakeChannel, type FakeDiscord, type FakeGuild, type FakeUser, type MessageRecord } from './fakes/discord.js';
import { replySinkContract, type ReplySinkHarness, type SeenReply } from './contracts/reply-sink.js';
import { customIdsOf } from './fakes/discord-components.js';

const TOKEN = 'MTAwMDAw.fake.sink-token';
let discord: FakeDiscord;
let client: Client;
let guild: FakeGuild;
const alice: FakeUser = { id: '100000000000000011', username: 'alice' };
const interactions = new Map<string, (i: ChatInputCommandInteraction) => void>();
const messages = new Map<string, (m: Message) => void>();

/** The plain data an answer job keeps for an interaction: what the sink works from. */
const targetOf = (i: ChatInputCommandInteraction): InteractionTarget => ({
  applicationId: discord.applicationId,
  token: i.token,
  ephemeral: i.ephemeral ?? false,
  channelId: i.channelId,
  createdTimestamp: i.createdTimestamp,
});
const sinkFor = (i: ChatInputCommandInteraction) => new InteractionReplySink(client.rest, targetOf(i));

beforeAll(async () => {
  discord = await startFakeDiscord({ token: TOKEN, applicationId: '900000000000000021' });
  guild = discord.addGuild('Sinks', ['interactions', 'mentions', 'expiry']);
  client = new Client({ intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages, rest: { api: discord.url } });
  client.on(Events.InteractionCreate, (i) => {
    if (i.isChatInputCommand()) interactions.get(i.id)?.(i);
  });
  client.on(Events.MessageCreate, (m) => messages.get(m.id)?.(m));
  const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
  await client.login(TOKEN);
  await ready;
  await client.rest.put(Routes.applicationCommands(discord.applicationId), { body: commandRegistrationBody() });
});

afterAll(async () => {
  await client?.destroy();
  await discord?.close();
});

const channel = (name: string): FakeChannel => guild.channels.find((c) => c.name === name)!;
const botMessagesSince = (ch: FakeChannel, before: Set<string>) =>
  discord.channelMessages(ch.id).filter((m) => !before.has(m.id) && m.author.id === discord.bot.id);

function split(msgs: MessageRecord[]): SeenReply {
  return {
    public: msgs.filter((m) => !(m.flags & MessageFlags.Ephemeral)).map((m) => m.content),
    private: msgs.filter((m) => m.flags & MessageFlags.Ephemeral).map((m) => m.content),
  };
}

/** A /ask interaction as discord.js hands it to the adapter, deferred the way the adapter does. */
async function deferredInteraction(ephemeral: boolean, ch = channel('interactions')) {
  const fake = discord.invoke({ guild, channel: ch, user: alice, command: 'ask', values: { question: 'q' } });
  const interaction = await new Promise<ChatInputCommandInteraction>((resolve) => interactions.set(fake.id, resolve));
  await interaction.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
  return { fake, interaction };
}

function interactionHarness(ephemeral: boolean): () => Promise<ReplySinkHarness> {
  return async () => {
    const ch = channel('interactions');
    const before = new Set(discord.channelMessages(ch.id).map((m) => m.id));
    const { fake, interaction } = await deferredInteraction(ephemeral, ch);
    const seen = () => split([...(fake.original ? [fake.original] : []), ...fake.followUps, ...botMessagesSince(ch, before)]);
    return { sink: sinkFor(interaction), seen };
  };
}

async function messageHarness(): Promise<ReplySinkHarness> {
  const ch = channel('mentions');
  const question = discord.sendMessage({ guild, channel: ch, author: alice, content: `<@${discord.bot.id}> hi`, mentionsBot: true });
  const message = await new Promise<Message>((resolve) => messages.set(question.id, resolve));
  const before = new Set(discord.channelMessages(ch.id).map((m) => m.id));
  return { sink: new MessageReplySink(client.rest, { channelId: message.channelId, messageId: message.id }), seen: () => split(botMessagesSince(ch, before)) };
}

replySinkContract({ name: 'Discord, interaction deferred publicly', create: interactionHarness(false), privateNotices: true, retractable: true });
replySinkContract({ name: 'Discord, interaction deferred ephemerally', create: interactionHarness(true), privateNotices: true, retractable: true });
replySinkContract({ name: 'Discord, reply to a message', create: messageHarness, privateNotices: false, retractable: true });

describe('Discord reply sinks', () => {
  it('answers privately after a public deferral without the follow-up taking over the public reply', async () => {
    const { fake, interaction } = await deferredInteraction(false);
    await new ReplyStream(sinkFor(interaction)).finish('Only admins can do that.', { kind: 'notice', ephemeral: true });
    expect(fake.original).toBeNull();
    expect(fake.followUps.map((m) => [m.content, m.flags & MessageFlags.Ephemeral])).toEqual([['Only admins can do that.', MessageFlags.Ephemeral]]);
  });

  it('mentions nobody in any message it writes', async () => {
    const { fake, interaction } = await deferredInteraction(false);
    const reply = new ReplyStream(sinkFor(interaction));
    await reply.finish(`@everyone ${'x '.repeat(1500)}`);
    const writes = discord.requests.filter((r) => r.path.includes(fake.token) && (r.method === 'PATCH' || r.method === 'POST') && r.body?.content);
    expect(writes.length).toBeGreaterThanOrEqual(2);
    for (const w of writes) expect(w.body.allowed_mentions).toEqual({ parse: [] });
  });

  it('moves the rest of a public reply to the channel once the token has expired, but never a private one', async () => {
    const ch = channel('expiry');
    const pub = await deferredInteraction(false, ch);
    discord.expireInteraction(pub.fake.token);
    await new ReplyStream(sinkFor(pub.interaction)).finish('public after expiry');
    expect(discord.channelMessages(ch.id).map((m) => m.content)).toContain('public after expiry');

    const priv = await deferredInteraction(true, ch);
    discord.expireInteraction(priv.fake.token);
    const failed = new ReplyStream(sinkFor(priv.interaction)).finish('private after expiry', { kind: 'notice', ephemeral: true });
    // The error says what failed, without the text it could not deliver.
    await expect(failed).rejects.toMatchObject({ name: 'DiscordReplyError', message: expect.not.stringContaining('private after expiry') });
    expect(discord.channelMessages(ch.id).map((m) => m.content)).not.toContain('private after expiry');
  });
});

describe('Discord reply sinks: status and answer buttons', () => {
  const answerId = '6f1f5d7a-3c55-4d0e-8b8e-0d6a4c1e2f33';
  const ids = (m: MessageRecord | null | undefined) => customIdsOf(m?.components ?? []);

  it('shows a status with Stop on the deferred reply, then the answer takes it over and ends with the feedback buttons', async () => {
    const { fake, interaction } = await deferredInteraction(false);
    const reply = new ReplyStream(new InteractionReplySink(client.rest, targetOf(interaction), {}, Date.now, answerId));
    await reply.status('Waiting for a free slot, 3 ahead…');
    expect(fake.original!.content).toBe('⏳ Waiting for a free slot, 3 ahead…');
    expect(ids(fake.original)).toEqual([`answer_stop:${answerId}`]);
    reply.update('The answer so far');
    await new Promise((r) => setTimeout(r, DISCORD_UPDATE_INTERVAL_MS + 150));
    expect(fake.original!.content).toBe('The answer so far');
    expect(ids(fake.original)).toEqual([`answer_stop:${answerId}`]);
    await reply.finish('The answer so far, and its end.');
    expect(fake.original!.content).toBe('The answer so far, and its end.');
    expect(ids(fake.original)).toEqual([`answer_feedback:positive:${answerId}`, `answer_feedback:negative:${answerId}`]);
    expect(fake.followUps).toEqual([]);
  });

  it('takes a public status down when the reply turns out private, and only the caller reads the notice', async () => {
    const { fake, interaction } = await deferredInteraction(false);
    const reply = new ReplyStream(new InteractionReplySink(client.rest, targetOf(interaction), {}, Date.now, answerId));
    await reply.status('Thinking…');
    await reply.finish('You are over your quota.', { kind: 'notice', ephemeral: true });
    expect(fake.original).toBeNull();
    expect(fake.followUps.map((m) => [m.content, m.flags & MessageFlags.Ephemeral, m.components])).toEqual([['You are over your quota.', MessageFlags.Ephemeral, []]]);
  });

  it("replaces a mention reply's status with an error that carries no buttons", async () => {
    const ch = channel('mentions');
    const question = discord.sendMessage({ guild, channel: ch, author: alice, content: `<@${discord.bot.id}> hi`, mentionsBot: true });
    const message = await new Promise<Message>((resolve) => messages.set(question.id, resolve));
    const reply = new ReplyStream(new MessageReplySink(client.rest, { channelId: message.channelId, messageId: message.id }, {}, answerId));
    await reply.status('Thinking…');
    const shown = discord.channelMessages(ch.id).find((m) => m.message_reference?.message_id === question.id)!;
    expect([shown.content, ids(shown)]).toEqual(['⏳ Thinking…', [`answer_stop:${answerId}`]]);
    await reply.finish('The model is unavailable.', { kind: 'error' });
    expect([shown.content, shown.components]).toEqual(['The model is unavailable.', []]);
  });

  it('shows no status over the text of a resumed reply (its first message holds the earlier attempt)', async () => {
    const ch = channel('mentions');
    const earlier = await client.rest.post(Routes.channelMessages(ch.id), { body: { content: 'half an answer' } }) as { id: string };
    const sink = new MessageReplySink(client.rest, { channelId: ch.id, messageId: earlier.id }, { refs: [{ kind: 'channel', id: earlier.id }] }, answerId);
    expect(await sink.status('Thinking…')).toBe(false);
    expect(discord.channelMessages(ch.id).find((m) => m.id === earlier.id)!.content).toBe('half an answer');
  });

  it('is held to what Discord accepts: the fake refuses components Discord would refuse', async () => {
    const ch = channel('mentions');
    const button = (custom_id: string, label = 'x') => ({ type: 2, style: 2, custom_id, label });
    const row = (...components: unknown[]) => ({ type: 1, components });
    const refused = async (components: unknown[]) =>
      client.rest.post(Routes.channelMessages(ch.id), { body: { content: 'x', components } }).then(() => null, (err: { code?: number }) => err.code);
    expect(await refused(Array.from({ length: 6 }, (_, i) => row(button(`r${i}`))))).toBe(50035);
    expect(await refused([row(...Array.from({ length: 6 }, (_, i) => button(`b${i}`)))])).toBe(50035);
    expect(await refused([row(button('x'.repeat(101)))])).toBe(50035);
    expect(await refused([row(button('ok', 'y'.repeat(81)))])).toBe(50035);
    expect(await refused([row(button('same'), button('same'))])).toBe(50035);
    expect(await refused([row(button('x'.repeat(100), 'y'.repeat(80)))])).toBeNull();
  });
});
