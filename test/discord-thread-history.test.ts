/**
 * Thread context on Discord, end to end: the bot's first mention in an existing thread reads the
 * thread's earlier messages once (REST, through the client's own queue) and answers with them;
 * a 429 or blanked content (no Message Content intent) means answering without them, never a
 * failure. A real discord.js client against the fake Discord, the real core, the fake Ollama.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeDiscord, FakeGuild, FakeUser } from './fakes/discord.js';
import type { FakeOllama } from './fakes/ollama.js';
import { startDiscordStack, waitFor, type DiscordStack } from './helpers/discord-stack.js';

let stack: DiscordStack;
let discord: FakeDiscord;
let ollama: FakeOllama;
let guild: FakeGuild;
const alice: FakeUser = { id: '100000000000000041', username: 'alice' };
const bob: FakeUser = { id: '100000000000000042', username: 'bob' };

beforeAll(async () => {
  stack = await startDiscordStack({ guilds: { Threads: ['general'] } });
  ({ discord, ollama } = stack);
  guild = stack.guilds.Threads!;
});

afterAll(async () => {
  await stack?.close();
});

async function newThread(name: string): Promise<FakeChannel> {
  const thread = discord.addThread(guild, guild.channels[0]!, name);
  await waitFor(() => expect(stack.adapter.client.channels.cache.has(thread.id)).toBe(true));
  return thread;
}

/** Mentions the bot in the thread and waits for the whole answer; returns the question and the chat request it caused. */
async function ask(thread: FakeChannel, author: FakeUser, question: string) {
  const before = ollama.chatRequests().length;
  const q = discord.sendMessage({ guild, channel: thread, author, content: `<@${discord.bot.id}> ${question}`, mentionsBot: true });
  await waitFor(() => expect(discord.channelMessages(thread.id).find((m) => m.message_reference?.message_id === q.id)?.content).toBe(`Answer to: ${question}`));
  const chat = ollama.chatRequests()[before];
  expect(chat).toBeDefined();
  return { q, turns: chat!.body.messages as { role: string; content: string }[] };
}

const historyReads = (thread: FakeChannel) => discord.requests.filter((r) => r.method === 'GET' && r.path === `/channels/${thread.id}/messages`);

describe('thread context', () => {
  it("brings a thread's earlier messages into the first answer there, the bot's own as its turns, read once", async () => {
    discord.setMessageContentIntent(true);
    try {
      const thread = await newThread('incident');
      discord.sendMessage({ guild, channel: thread, author: alice, content: 'the deploy broke at 3pm' });
      discord.sendMessage({ guild, channel: thread, author: discord.bot, content: 'Earlier I said: roll back the cache change.' });
      discord.sendMessage({ guild, channel: thread, author: bob, content: 'it was the cache config' });
      const { q, turns } = await ask(thread, alice, 'so what broke?');

      const reads = historyReads(thread);
      expect(reads).toHaveLength(1);
      expect(Object.fromEntries(reads[0]!.query)).toEqual({ before: q.id, limit: '15' });
      const earlier = turns.slice(1, -1).map((t) => [t.role, t.content]);
      expect(earlier).toEqual([
        ['user', 'the deploy broke at 3pm'],
        ['assistant', 'Earlier I said: roll back the cache change.'],
        ['user', 'it was the cache config'],
      ]);
      expect(turns.at(-1)!.content).toContain('so what broke?');

      // Memory has the thread now: the next mention reads nothing more.
      const next = await ask(thread, bob, 'and the fix?');
      expect(historyReads(thread)).toHaveLength(1);
      expect(next.turns.map((t) => t.content)).toContain('the deploy broke at 3pm');
    } finally {
      discord.setMessageContentIntent(false);
    }
  });

  it('leaves out what Discord blanks without the Message Content intent, keeping the bot\'s own words', async () => {
    const thread = await newThread('quiet');
    discord.sendMessage({ guild, channel: thread, author: alice, content: 'a private remark' });
    discord.sendMessage({ guild, channel: thread, author: discord.bot, content: 'I answered something here before.' });
    const { turns } = await ask(thread, alice, 'what did you say?');
    expect(historyReads(thread)).toHaveLength(1);
    expect(turns.slice(1, -1).map((t) => [t.role, t.content])).toEqual([['assistant', 'I answered something here before.']]);
    expect(turns.map((t) => t.content).join('\n')).not.toContain('a private remark');
  });

  it('answers without the earlier messages when the read is rate-limited, without waiting the limit out', async () => {
    discord.setMessageContentIntent(true);
    try {
      const thread = await newThread('busy');
      discord.sendMessage({ guild, channel: thread, author: bob, content: 'context that will not come' });
      discord.rateLimitNext(new RegExp(`^GET /channels/${thread.id}/messages$`), 30);
      const { turns } = await ask(thread, alice, 'answer anyway');
      expect(turns.map((t) => t.content).join('\n')).not.toContain('context that will not come');
      // Refused once and not retried: the 30 s Retry-After was not waited out.
      expect(historyReads(thread)).toHaveLength(1);
    } finally {
      discord.setMessageContentIntent(false);
    }
  });

  it('reads the thread for /ask used inside it too, up to the command', async () => {
    discord.setMessageContentIntent(true);
    try {
      const thread = await newThread('slash');
      discord.sendMessage({ guild, channel: thread, author: bob, content: 'we ship on fridays' });
      const before = ollama.chatRequests().length;
      const asked = discord.invoke({ guild, channel: thread, user: alice, command: 'ask', values: { question: 'when do we ship?' } });
      await waitFor(() => expect(asked.original?.content).toBe('Answer to: when do we ship?'));
      const reads = historyReads(thread);
      expect(reads.map((r) => Object.fromEntries(r.query))).toEqual([{ before: asked.id, limit: '15' }]);
      const turns = ollama.chatRequests()[before]!.body.messages as { role: string; content: string }[];
      expect(turns.slice(1, -1).map((t) => [t.role, t.content])).toEqual([['user', 'we ship on fridays']]);
    } finally {
      discord.setMessageContentIntent(false);
    }
  });

  it('does not read history for a mention outside a thread', async () => {
    const before = discord.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/messages')).length;
    const channel = guild.channels[0]!;
    const q = discord.sendMessage({ guild, channel, author: alice, content: `<@${discord.bot.id}> plain channel question`, mentionsBot: true });
    await waitFor(() => expect(discord.channelMessages(channel.id).find((m) => m.message_reference?.message_id === q.id)?.content).toBe('Answer to: plain channel question'));
    expect(discord.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/messages')).length).toBe(before);
  });
});
