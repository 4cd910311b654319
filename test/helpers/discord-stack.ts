/**
 * The Discord adapter wired as in production for an end-to-end test file: the fake Discord (REST
 * and gateway), the fake Ollama, a fresh test database, the real core and a real discord.js
 * client started by startDiscord. One per test file; close() takes everything down in order.
 */
import { randomBytes } from 'node:crypto';
import { vi } from 'vitest';
import { createCore, type Core } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startDiscord, type DiscordOptions } from '../../adapters/discord/index.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { startFakeOllama, type FakeOllama, type FakeOllamaOptions, type RecordedRequest } from '../fakes/ollama.js';
import { startFakeDiscord, Permission, MEMBER_PERMISSIONS, type FakeDiscord, type FakeGuild } from '../fakes/discord.js';

/** A member with Manage Server: an admin on Discord. */
export const ADMIN_PERMISSIONS = MEMBER_PERMISSIONS | Permission.ManageGuild;

export interface DiscordStackOptions {
  /** Guilds present before the client connects: name → channel names. */
  guilds: Record<string, string[]>;
  /** Settings on top of the ones the stack needs. */
  env?: Record<string, string>;
  ollama?: FakeOllamaOptions;
  adapter?: DiscordOptions;
}

export interface DiscordStack {
  db: TestDatabase;
  ollama: FakeOllama;
  discord: FakeDiscord;
  core: Core;
  adapter: Awaited<ReturnType<typeof startDiscord>>;
  guilds: Record<string, FakeGuild>;
  close(): Promise<void>;
}

export async function startDiscordStack(o: DiscordStackOptions): Promise<DiscordStack> {
  const token = `MTAwMDAw.fake.${randomBytes(4).toString('hex')}`;
  const db = await createTestDatabase();
  const ollama = await startFakeOllama(o.ollama);
  const discord = await startFakeDiscord({ token, applicationId: '900000000000000001' });
  const guilds = Object.fromEntries(Object.entries(o.guilds).map(([name, channels]) => [name, discord.addGuild(name, channels)]));
  const config = loadConfig({
    OLLAMA_HOST: ollama.url,
    DISCORD_TOKEN: token,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_API_URL: discord.url,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DISCORD_CLIENT_SECRET: discord.clientSecret,
    PORT: '0',
    ...o.env,
  });
  const core = await createCore(config, { database: db.database, logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
  const adapter = await startDiscord(core, o.adapter);
  return {
    db, ollama, discord, core, adapter, guilds,
    async close() {
      await adapter.close();
      await core.close();
      await discord.close();
      await ollama.close();
      await db.drop();
    },
  };
}

/** Polls until `fn` passes (10 s at most). */
export const waitFor = <T>(fn: () => T | Promise<T>) => vi.waitFor(fn, { timeout: 10_000, interval: 20 });

/** The prompt a chat request sent, as one text. */
export const promptOf = (req: RecordedRequest | undefined): string => (req?.body.messages as { content: string }[]).map((m) => m.content).join('\n');
