/**
 * The buttons on Discord answers, end to end: a real discord.js client against the fake Discord,
 * the real core on the test database, the fake Ollama. The answer's messages carry Stop while it
 * streams and helpful / not helpful once it ends; clicks reach the core's controls with the
 * clicker and their guild, and only the clicker reads the reply. One backend slot
 * (OLLAMA_PARALLEL=1), so a second question waits and shows that it does.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_TEXT } from '../src/core/answer-controls.js';
import { answerFeedback, answers } from '../src/db/schema.js';
import { CLICK_TEXT } from '../adapters/discord/clicks.js';
import type { FakeChannel, FakeDiscord, FakeGuild, FakeUser, MessageRecord } from './fakes/discord.js';
import { customIdsOf } from './fakes/discord-components.js';
import type { FakeOllama } from './fakes/ollama.js';
import { ADMIN_PERMISSIONS, startDiscordStack, waitFor, type DiscordStack } from './helpers/discord-stack.js';

let stack: DiscordStack;
let discord: FakeDiscord;
let ollama: FakeOllama;
let hooli: FakeGuild;
let pied: FakeGuild;
const alice: FakeUser = { id: '100000000000000031', username: 'alice' };
const bob: FakeUser = { id: '100000000000000032', username: 'bob' };
const carol: FakeUser = { id: '100000000000000033', username: 'carol' };

const words = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');
const channel = (g: FakeGuild, name: string): FakeChannel => g.channels.find((c) => c.name === name)!;
const MARK = '⏳ ';

beforeAll(async () => {
  stack = await startDiscordStack({ guilds: { Hooli: ['general', 'stops', 'waits', 'long'], Pied: ['general'] }, env: { OLLAMA_PARALLEL: '1' } });
  ({ discord, ollama } = stack);
  hooli = stack.guilds.Hooli!;
  pied = stack.guilds.Pied!;
});

afterEach(() => {
  ollama.tokenDelayMs = 0;
  ollama.reply = undefined;
});

afterAll(async () => {
  await stack?.close();
});

/** Mentions the bot in `ch` and returns the question and (once it exists) the bot's reply to it. */
async function mention(g: FakeGuild, ch: FakeChannel, author: FakeUser, question: string) {
  const q = discord.sendMessage({ guild: g, channel: ch, author, content: `<@${discord.bot.id}> ${question}`, mentionsBot: true });
  const reply = await waitFor(() => {
    const r = discord.channelMessages(ch.id).find((m) => m.message_reference?.message_id === q.id);
    expect(r).toBeDefined();
    return r!;
  });
  return { q, reply };
}

/** The answer id the first Stop button a message carried names (its status, or its first text). */
async function stopIdOf(message: MessageRecord): Promise<string> {
  return waitFor(() => {
    const stop = message.componentHistory.flatMap(customIdsOf).find((id) => id.startsWith('answer_stop:'));
    expect(stop).toBeDefined();
    return stop!.slice('answer_stop:'.length);
  });
}

const feedbackIds = (id: string) => [`answer_feedback:positive:${id}`, `answer_feedback:negative:${id}`];

/** Waits for a click's reply and checks it went to the clicker alone. */
async function privateReply(click: ReturnType<FakeDiscord['click']>): Promise<string> {
  return waitFor(() => {
    expect(click.original?.content).toBeTruthy();
    expect(click.callback!.flags & 64).toBe(64);
    expect(click.original!.flags & 64).toBe(64);
    return click.original!.content;
  });
}

const tenantOf = async (g: FakeGuild) => (await stack.core.tenants.resolve('discord', g.id))!;
const votesOn = (answerId: string) => stack.db.database.db.select().from(answerFeedback).where(eq(answerFeedback.answerId, answerId));

describe('buttons on answers', () => {
  it('carries Stop on the message while the answer streams, and only the feedback buttons on the final one', async () => {
    ollama.tokenDelayMs = 30;
    ollama.reply = () => words('live', 60);
    const { reply } = await mention(hooli, channel(hooli, 'general'), alice, 'stream something');
    const id = await stopIdOf(reply);
    await waitFor(() => expect(reply.content).toBe(words('live', 60)));
    await waitFor(() => expect(customIdsOf(reply.components)).toEqual(feedbackIds(id)));
    // Every write before the last showed Stop (the status, then the growing text); the last, only the votes.
    const before = reply.componentHistory.slice(0, -1).map(customIdsOf);
    expect(before.length).toBeGreaterThanOrEqual(2);
    for (const ids of before) expect(ids).toEqual([`answer_stop:${id}`]);
    expect(reply.history.some((text) => text.startsWith('live0') && text !== words('live', 60))).toBe(true);
    // The id on the buttons is the answer the core recorded for this guild.
    const [row] = await stack.db.database.db.select().from(answers).where(eq(answers.id, id));
    expect(row).toMatchObject({ tenantId: (await tenantOf(hooli)).tenantId, askerId: alice.id, stopped: false });
  });

  it('puts the feedback buttons on the last message of a long /ask answer and leaves the earlier ones bare', async () => {
    const long = words('long-answer-word', 260); // about 5,000 characters: three messages
    ollama.queueReply(long);
    const ask = discord.invoke({ guild: hooli, channel: channel(hooli, 'long'), user: alice, command: 'ask', values: { question: 'tell it all' } });
    const id = await stopIdOf(await waitFor(() => ask.original ?? expect.unreachable('no reply yet')));
    await waitFor(() => expect([ask.original!, ...ask.followUps].map((m) => m.content).join(' ')).toBe(long));
    const messages = [ask.original!, ...ask.followUps];
    expect(messages.length).toBeGreaterThanOrEqual(3);
    await waitFor(() => expect(customIdsOf(messages.at(-1)!.components)).toEqual(feedbackIds(id)));
    for (const m of messages.slice(0, -1)) expect(m.components).toEqual([]);
  });

  it('a notice (a command reply) carries no buttons', async () => {
    const list = discord.invoke({ guild: hooli, channel: channel(hooli, 'general'), user: bob, command: 'llm', path: ['persona', 'list'] });
    await waitFor(() => expect(list.original?.content).toBeTruthy());
    expect(list.original!.components).toEqual([]);
  });
});

describe('feedback clicks', () => {
  it('stores a vote with the answer, tells only the clicker, lets them change it, and /llm feedback reports it', async () => {
    const ch = channel(hooli, 'general');
    const { reply } = await mention(hooli, ch, alice, 'what is our refund window?');
    const id = await stopIdOf(reply);
    await waitFor(() => expect(customIdsOf(reply.components)).toEqual(feedbackIds(id)));

    const up = discord.click({ guild: hooli, channel: ch, user: bob, message: reply, customId: `answer_feedback:positive:${id}` });
    expect(await privateReply(up)).toBe(CONTROL_TEXT.thanksPositive);
    expect(await votesOn(id)).toMatchObject([{ userId: bob.id, value: 'positive', tenantId: (await tenantOf(hooli)).tenantId }]);

    const down = discord.click({ guild: hooli, channel: ch, user: bob, message: reply, customId: `answer_feedback:negative:${id}` });
    expect(await privateReply(down)).toBe(CONTROL_TEXT.thanksNegative);
    expect(await votesOn(id)).toMatchObject([{ userId: bob.id, value: 'negative' }]);
    // The public answer was not touched by either click.
    expect(reply.content).toBe('Answer to: what is our refund window?');

    const report = discord.invoke({ guild: hooli, channel: ch, user: carol, command: 'llm', path: ['feedback'], permissions: ADMIN_PERMISSIONS });
    await waitFor(() => expect(report.original?.content).toMatch(/today: 0 helpful, 1 not helpful/));
    expect(report.original!.content).toContain('what is our refund window?');
  });

  it("refuses a click from another guild on this guild's answer, and shows it nothing of it", async () => {
    const { reply } = await mention(hooli, channel(hooli, 'general'), alice, 'hooli secret plans');
    const id = await stopIdOf(reply);
    await waitFor(() => expect(customIdsOf(reply.components)).toEqual(feedbackIds(id)));
    const elsewhere = discord.sendMessage({ guild: pied, channel: channel(pied, 'general'), author: carol, content: 'hello' });
    const forged = { guild: pied, channel: channel(pied, 'general'), user: carol, message: elsewhere, unchecked: true, permissions: ADMIN_PERMISSIONS };
    const vote = discord.click({ ...forged, customId: `answer_feedback:negative:${id}` });
    const voteReply = await privateReply(vote);
    expect(voteReply).toBe(CONTROL_TEXT.unknownAnswer);
    expect(voteReply).not.toContain('hooli');
    const stop = discord.click({ ...forged, customId: `answer_stop:${id}` });
    expect(await privateReply(stop)).toBe(CONTROL_TEXT.unknownAnswer);
    expect(await votesOn(id)).toEqual([]);
  });

  it('refuses a malformed answer button clearly, and acknowledges a button that is not an answer button without a word', async () => {
    const ch = channel(hooli, 'general');
    const msg = discord.sendMessage({ guild: hooli, channel: ch, author: alice, content: 'a message' });
    const bad = discord.click({ guild: hooli, channel: ch, user: alice, message: msg, customId: 'answer_feedback:maybe:123', unchecked: true });
    expect(await privateReply(bad)).toBe(CLICK_TEXT.malformed);
    const empty = discord.click({ guild: hooli, channel: ch, user: alice, message: msg, customId: 'answer_stop:', unchecked: true });
    expect(await privateReply(empty)).toBe(CLICK_TEXT.malformed);
    const other = discord.click({ guild: hooli, channel: ch, user: alice, message: msg, customId: 'poll_vote:1', unchecked: true });
    await waitFor(() => expect(other.callback).toEqual({ type: 6, flags: 0 }));
    expect(other.original).toBeNull();
  });
});

describe('stop clicks', () => {
  it('stop by the asker aborts the backend request within a second; the partial answer ends (stopped), is remembered and metered', async () => {
    ollama.tokenDelayMs = 40;
    ollama.reply = () => words('stoppable', 300);
    const ch = channel(hooli, 'stops');
    const tenant = await tenantOf(hooli);
    const usageBefore = await stack.core.usage.today(tenant);
    const aborted = ollama.abortedChats.length;
    const { reply } = await mention(hooli, ch, alice, 'a very long essay');
    const id = await stopIdOf(reply);
    await waitFor(() => expect(reply.content).toMatch(/^stoppable0 stoppable1 stoppable2/));

    const stop = discord.click({ guild: hooli, channel: ch, user: alice, message: reply, customId: `answer_stop:${id}` });
    expect(await privateReply(stop)).toBe(CONTROL_TEXT.stopping);
    await waitFor(() => expect(ollama.abortedChats.length).toBe(aborted + 1));
    // Both times as the fakes recorded them: the click's dispatch and the backend's hang-up.
    const hungUpAfterMs = ollama.abortedChats.at(-1)! - stop.dispatchedAt;
    expect(hungUpAfterMs).toBeGreaterThanOrEqual(0);
    expect(hungUpAfterMs).toBeLessThan(1000);

    await waitFor(() => expect(reply.content.endsWith('_(stopped)_')).toBe(true));
    expect(reply.content).not.toContain('stoppable299');
    expect(customIdsOf(reply.components)).toEqual(feedbackIds(id));
    const [row] = await stack.db.database.db.select().from(answers).where(and(eq(answers.id, id), eq(answers.tenantId, tenant.tenantId)));
    expect(row!.stopped).toBe(true);
    const remembered = await stack.core.memory.window(tenant, { channelId: ch.id, threadId: null }, { maxMessages: 2, tokenBudget: 100_000 });
    expect(remembered.at(-1)).toMatchObject({ role: 'assistant', content: expect.stringMatching(/^stoppable0 .*\(stopped\)$/s) });
    // Metered: at least the tokens the reply shows (one word a token in the fake).
    const shown = reply.content.split(' ').filter((w) => w.startsWith('stoppable')).length;
    await waitFor(async () => expect((await stack.core.usage.today(tenant)).completionTokens - usageBefore.completionTokens).toBeGreaterThanOrEqual(shown));
  });

  it('refuses stop to another member without Manage Server, and the answer goes on to its end', async () => {
    ollama.tokenDelayMs = 25;
    ollama.reply = () => words('unstoppable', 80);
    const ch = channel(hooli, 'stops');
    const aborted = ollama.abortedChats.length;
    const { reply } = await mention(hooli, ch, alice, 'keep going');
    const id = await stopIdOf(reply);
    const stop = discord.click({ guild: hooli, channel: ch, user: bob, message: reply, customId: `answer_stop:${id}` });
    expect(await privateReply(stop)).toBe(CONTROL_TEXT.notYours);
    await waitFor(() => expect(customIdsOf(reply.components)).toEqual(feedbackIds(id)));
    expect(reply.content).toBe(words('unstoppable', 80));
    expect(ollama.abortedChats.length).toBe(aborted);
  });

  it("lets a member with Manage Server stop someone else's answer", async () => {
    ollama.tokenDelayMs = 40;
    ollama.reply = () => words('admin-stop', 200);
    const ch = channel(hooli, 'stops');
    const { reply } = await mention(hooli, ch, alice, 'another long one');
    const id = await stopIdOf(reply);
    await waitFor(() => expect(reply.content).toMatch(/^admin-stop0/));
    const stop = discord.click({ guild: hooli, channel: ch, user: carol, message: reply, customId: `answer_stop:${id}`, permissions: ADMIN_PERMISSIONS });
    expect(await privateReply(stop)).toBe(CONTROL_TEXT.stopping);
    await waitFor(() => expect(reply.content.endsWith('_(stopped)_')).toBe(true));
  });
});

describe('status', () => {
  it('shows a question waiting for the busy backend on its reply, with Stop, until the answer takes its place', async () => {
    ollama.tokenDelayMs = 30;
    ollama.reply = (req) => (String(req.messages.at(-1).content).includes('first') ? words('first', 80) : 'second answer');
    const first = discord.invoke({ guild: pied, channel: channel(pied, 'general'), user: carol, command: 'ask', values: { question: 'first, and long' } });
    await waitFor(() => expect(first.original?.content).toMatch(/^first0/));
    const { reply } = await mention(hooli, channel(hooli, 'waits'), bob, 'second, waits');
    await waitFor(() => expect(reply.content).toBe('second answer'));
    expect(reply.history[0]).toBe(`${MARK}Waiting for a free slot…`);
    expect(reply.history).toContain(`${MARK}Thinking…`);
    const id = customIdsOf(reply.componentHistory[0]!)[0]!.replace('answer_stop:', '');
    expect(customIdsOf(reply.componentHistory[0]!)).toEqual([`answer_stop:${id}`]);
    await waitFor(() => expect(customIdsOf(reply.components)).toEqual(feedbackIds(id)));
    // The first answer had the slot the whole time: it finished whole.
    await waitFor(() => expect(first.original?.content).toBe(words('first', 80)));
  });

  it('drops a waiting question when its asker presses Stop on the status, before the model sees it', async () => {
    ollama.tokenDelayMs = 30;
    ollama.reply = () => words('hog', 80);
    const hog = discord.invoke({ guild: pied, channel: channel(pied, 'general'), user: carol, command: 'ask', values: { question: 'hold the slot' } });
    await waitFor(() => expect(hog.original?.content).toMatch(/^hog0/));
    const ch = channel(hooli, 'waits');
    const { reply } = await mention(hooli, ch, bob, 'never mind this one');
    await waitFor(() => expect(reply.content).toBe(`${MARK}Waiting for a free slot…`));
    const id = await stopIdOf(reply);
    const stop = discord.click({ guild: hooli, channel: ch, user: bob, message: reply, customId: `answer_stop:${id}` });
    expect(await privateReply(stop)).toBe(CONTROL_TEXT.stopping);
    await waitFor(() => expect(reply.content).toMatch(/stopped before/));
    await waitFor(() => expect(hog.original?.content).toBe(words('hog', 80)));
    expect(ollama.chatRequests().some((r) => JSON.stringify(r.body.messages).includes('never mind this one'))).toBe(false);
  });
});
