/**
 * "Acked means answered" on Discord, from outside: the service runs as its own process against
 * the fake Discord (REST and gateway) and the fake Ollama, and is killed (kill -9) while it edits
 * an answer. The next start reconnects, finds the interrupted job and finishes the same reply:
 * the deferred interaction reply through its (sealed) token, or the placeholder that replied to
 * a mention.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord, type FakeGuild, type FakeUser } from './fakes/discord.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { eventually, startService, type RunningService } from './helpers/service.js';

const TOKEN = 'MTAwMDAw.fake.durable-token';
const KEY = randomBytes(32).toString('base64');
let discord: FakeDiscord;
let ollama: FakeOllama;
let tdb: TestDatabase | undefined;
let dataDir: string | undefined;
let guild: FakeGuild;
const alice: FakeUser = { id: '100000000000000077', username: 'alice' };
const running: RunningService[] = [];

const words = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

async function start(): Promise<RunningService> {
  const svc = await startService({
    ...(tdb?.url ? { DATABASE_URL: tdb.url } : { DATA_DIR: dataDir! }),
    OLLAMA_HOST: ollama.url,
    DISCORD_TOKEN: TOKEN,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_API_URL: discord.url,
    ENCRYPTION_KEY: KEY,
    ANSWER_LEASE_MS: '2000',
  });
  running.push(svc);
  // Answers are resumed once the gateway is ready and this instance can reply.
  await eventually(() => svc.logs.some((l) => l.msg === 'discord gateway ready'), 'the gateway to be ready');
  return svc;
}

beforeAll(async () => {
  discord = await startFakeDiscord({ token: TOKEN, applicationId: '900000000000000077' });
  guild = discord.addGuild('Durable', ['general']);
  ollama = await startFakeOllama({ models: ['llama3.2:3b', 'nomic-embed-text'] });
  if (process.env.TEST_DATABASE_URL || process.env.DATABASE_URL) tdb = await createTestDatabase();
  else dataDir = mkdtempSync(join(tmpdir(), 'durable-discord-'));
}, 60_000);

afterEach(async () => {
  for (const svc of running.splice(0)) if (svc.proc.exitCode === null && svc.proc.signalCode === null) await svc.crash();
  ollama.tokenDelayMs = 0;
});

afterAll(async () => {
  await tdb?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await ollama?.close();
  await discord?.close();
});

describe.sequential('Discord answers survive the process that began them', () => {
  it('kill -9 while editing a deferred /ask reply: the next start edits the same reply to the whole answer', async () => {
    const svc = await start();
    ollama.tokenDelayMs = 60;
    ollama.reply = () => words('d', 60);
    const ask = discord.invoke({ guild, channel: guild.channels[0]!, user: alice, command: 'ask', values: { question: 'a long story please' } });
    await eventually(() => (ask.original?.content.split(' ').length ?? 0) > 5, 'the reply to begin');
    await svc.crash();
    expect(ask.original!.content).not.toContain('d59');

    await start();
    await eventually(() => ask.original?.content.includes('d59'), 'the reply to be finished in place', 30_000);
    expect(ask.original!.content.trim()).toBe(words('d', 60));
    // In place: no follow-up and no channel message carries a second copy.
    expect(ask.followUps).toHaveLength(0);
    expect(discord.channelMessages(guild.channels[0]!.id).filter((m) => m.content.includes('d0 d1'))).toHaveLength(0);
  });

  it('kill -9 while answering a mention: the placeholder that replied to it gets the whole answer', async () => {
    const svc = await start();
    ollama.tokenDelayMs = 60;
    ollama.reply = () => words('m', 60);
    const question = discord.sendMessage({ guild, channel: guild.channels[0]!, author: alice, content: `<@${discord.bot.id}> tell me more`, mentionsBot: true });
    const reply = await eventually(
      () => discord.channelMessages(guild.channels[0]!.id).find((m) => m.author.id === discord.bot.id && m.content.split(' ').length > 5 && m.content.startsWith('m0')),
      'the reply to begin',
    );
    await svc.crash();
    expect(reply.content).not.toContain('m59');

    await start();
    await eventually(() => discord.channelMessages(guild.channels[0]!.id).find((m) => m.id === reply.id)?.content.includes('m59'), 'the reply to be finished', 30_000);
    const mine = discord.channelMessages(guild.channels[0]!.id).filter((m) => m.author.id === discord.bot.id && m.content.includes('m0 m1'));
    expect(mine.map((m) => m.id)).toEqual([reply.id]);
    expect(mine[0]!.content.trim()).toBe(words('m', 60));
    expect(question.id).toBeTruthy();
  });
});
