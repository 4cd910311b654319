/**
 * Two processes sharing the guilds (DISCORD_SHARD_IDS / DISCORD_SHARD_COUNT) on one database,
 * with the Message Content intent on so channel mode `all` can answer unaddressed messages.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCore, type Core } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startDiscord } from '../adapters/discord/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startFakeDiscord, Intents, Permission, MEMBER_PERMISSIONS, shardOf, snowflake, type FakeDiscord, type FakeGuild, type FakeUser } from './fakes/discord.js';

const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const TOKEN = 'MTAwMDAw.fake.shard-token';
let db: TestDatabase;
let ollama: FakeOllama;
let discord: FakeDiscord;
const cores: Core[] = [];
const adapters: { close(): Promise<void> }[] = [];
let onShard0: FakeGuild;
let onShard1: FakeGuild;
const carol: FakeUser = { id: '100000000000000003', username: 'carol' };
const waitFor = <T>(fn: () => T | Promise<T>) => vi.waitFor(fn, { timeout: 10_000, interval: 20 });

function guildIdOnShard(shard: number): string {
  for (;;) {
    const id = snowflake();
    if (shardOf(id, 2) === shard) return id;
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  ollama = await startFakeOllama();
  discord = await startFakeDiscord({ token: TOKEN, applicationId: '900000000000000002' });
  onShard0 = discord.addGuild('Zero Inc', ['general', 'chatter'], guildIdOnShard(0));
  onShard1 = discord.addGuild('One Ltd', ['general'], guildIdOnShard(1));
  for (const shard of ['0', '1']) {
    const config = loadConfig({
      OLLAMA_HOST: ollama.url,
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_API_URL: discord.url,
      ENCRYPTION_KEY,
      DISCORD_SHARD_IDS: shard,
      DISCORD_SHARD_COUNT: '2',
      DISCORD_MESSAGE_CONTENT: 'true',
    });
    const core = await createCore(config, { database: db.database, logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
    cores.push(core);
    adapters.push(await startDiscord(core));
  }
});

afterAll(async () => {
  for (const a of adapters) await a.close();
  for (const c of cores) await c.close();
  await discord?.close();
  await ollama?.close();
  await db?.drop();
});

describe('sharding', () => {
  it('runs one gateway session per process, each identifying its own shard', () => {
    const shards = discord.gateway.identifies.map((i) => i.shard).sort();
    expect(shards).toEqual([[0, 2], [1, 2]]);
    for (const i of discord.gateway.identifies) expect(i.intents & Intents.MessageContent).toBe(Intents.MessageContent);
  });

  it('registers commands once, from the process that runs shard 0', () => {
    expect(discord.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/commands'))).toHaveLength(1);
  });

  it('installs every guild, each by the process whose shard owns it', async () => {
    for (const g of [onShard0, onShard1]) expect((await cores[0]!.tenants.resolve('discord', g.id))?.status).toBe('active');
  });

  it('answers a slash command in a guild of the second shard', async () => {
    const it1 = discord.invoke({ guild: onShard1, channel: onShard1.channels[0]!, user: carol, command: 'ask', values: { question: 'hello from shard one' } });
    await waitFor(() => expect(it1.original?.content).toBe('Answer to: hello from shard one'));
  });
});

describe('channel mode all (Message Content intent on)', () => {
  it('answers unaddressed messages only where an admin turned mode all on', async () => {
    const [general, chatter] = onShard0.channels as [typeof onShard0.channels[0], typeof onShard0.channels[0]];
    const set = discord.invoke({
      guild: onShard0, channel: chatter, user: carol, command: 'llm', path: ['channel', 'mode'], values: { mode: 'all' },
      permissions: MEMBER_PERMISSIONS | Permission.ManageGuild,
    });
    await waitFor(() => expect(set.original?.content).toBeTruthy());

    const before = ollama.chatRequests().length;
    const quiet = discord.sendMessage({ guild: onShard0, channel: general, author: carol, content: 'no one asked you' });
    const ambient = discord.sendMessage({ guild: onShard0, channel: chatter, author: carol, content: 'what do cats eat' });
    await waitFor(() =>
      expect(discord.channelMessages(chatter.id).find((m) => m.message_reference?.message_id === ambient.id)?.content).toBe('Answer to: what do cats eat'),
    );
    expect(ollama.chatRequests().length).toBe(before + 1);
    expect(discord.channelMessages(general.id).some((m) => m.message_reference?.message_id === quiet.id)).toBe(false);
  });
});
