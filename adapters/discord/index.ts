/**
 * The Discord adapter: one application, many guilds, each its own tenant. A discord.js gateway
 * client (only the intents it needs) turns slash commands and mentions into answer jobs, which
 * the core runs and restore.ts rebuilds on whichever instance runs them; clicks on the answer
 * buttons go to the core's answer controls (clicks.ts);
 * guild joins and removals install and uninstall tenants; the install flow is two HTTP routes.
 */
import { Client, Events, GatewayIntentBits, Options, Partials, Routes } from 'discord.js';
import type { Core } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { HttpRouter } from '../../src/http/router.js';
import type { TenantRegistry } from '../../src/tenancy/registry.js';
import { commandRegistrationBody } from './commands.js';
import { DiscordEventHandler } from './events.js';
import { AnswerButtonClicks } from './clicks.js';
import type { AnswerIntake } from '../../src/ports/jobs.js';
import { DiscordRestorer } from './restore.js';
import { registerInstallRoutes } from './install.js';
import { OAuthStates } from '../../src/security/oauth-states.js';
import { rejectHistoryRateLimit } from './thread-history.js';

/** What the adapter uses of the core. */
export type DiscordCore = Pick<Core, 'config' | 'logger' | 'database' | 'controls'> & {
  tenants: Pick<TenantRegistry, 'install' | 'markUninstalled' | 'list'>;
  jobs: AnswerIntake;
  http: HttpRouter;
};

export interface DiscordOptions {
  /** Clock for the interaction-token deadline (tests). */
  now?: () => number;
  /** How long to wait for the gateway's READY before start fails, in ms. */
  readyTimeoutMs?: number;
  /** How long a button click's reply may take before the click is deferred, in ms. @defaultValue 1500 */
  clickReplyWithinMs?: number;
}

/**
 * Guilds (guild joins/leaves, channel and thread cache), GuildMessages (mentions in guild
 * channels), DirectMessages (a DM gets a pointer back to a server). Message Content only when
 * DISCORD_MESSAGE_CONTENT is on: Discord already sends content for messages that mention the
 * bot; the privileged intent is for channel mode `all`.
 */
export function discordIntents(config: Pick<Config, 'DISCORD_MESSAGE_CONTENT'>): number {
  let intents = GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.DirectMessages;
  if (config.DISCORD_MESSAGE_CONTENT) intents |= GatewayIntentBits.MessageContent;
  return intents;
}

/** Discord's routing of a guild to a shard. */
export function shardOfGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

export async function startDiscord(core: DiscordCore, opts: DiscordOptions = {}): Promise<{ client: Client; close(): Promise<void> }> {
  const { config } = core;
  if (!config.DISCORD_TOKEN || !config.DISCORD_APPLICATION_ID) throw new Error('startDiscord needs DISCORD_TOKEN and DISCORD_APPLICATION_ID');
  const log: Logger = core.logger.child({ adapter: 'discord' });
  const shardIds = config.DISCORD_SHARD_IDS?.split(',').map(Number);
  const client = new Client({
    intents: discordIntents(config),
    // DMs arrive for channels discord.js has not cached; without this they are dropped.
    partials: [Partials.Channel],
    // Rate limits: @discordjs/rest's per-route buckets and global limit, nothing on top.
    // A thread's history is read once and is not worth waiting for: its 429 fails the read at once.
    rest: { api: config.DISCORD_API_URL.replace(/\/+$/, ''), rejectOnRateLimit: rejectHistoryRateLimit },
    ...(shardIds ? { shards: shardIds, shardCount: config.DISCORD_SHARD_COUNT ?? Math.max(...shardIds) + 1 } : { shards: 'auto' as const }),
    // Answers need the asking message only briefly; many guilds must not grow memory unbounded.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 20 }),
    allowedMentions: { parse: [] },
  });

  core.jobs.register('discord', new DiscordRestorer(client.rest, { now: opts.now, botUserId: () => client.user?.id, log }));
  const handler = new DiscordEventHandler(client, core.jobs, log, {
    messageContent: config.DISCORD_MESSAGE_CONTENT,
    applicationId: config.DISCORD_APPLICATION_ID,
    now: opts.now,
  });
  const inOrder = new PerKeyQueue();
  // Joins and removals of one guild are applied in the order Discord sent them.
  const install = (g: { id: string; name: string }) =>
    inOrder.run(g.id, () => core.tenants.install('discord', g.id, { name: g.name }).then(() => undefined));
  const uninstall = (guildId: string) => inOrder.run(guildId, () => core.tenants.markUninstalled('discord', guildId).then(() => undefined));

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Discord gateway did not become ready in time')), opts.readyTimeoutMs ?? 60_000);
    // Attached before login(): READY can arrive before login() resolves.
    client.once(Events.ClientReady, (c) => {
      clearTimeout(timer);
      void (async () => {
        log.info({ user: c.user.id, guilds: c.guilds.cache.size, shards: c.options.shards }, 'discord gateway ready');
        for (const g of c.guilds.cache.values()) await install(g);
        await reconcileRemovedGuilds(core, c, log);
        if (ownsCommandRegistration(c)) await registerCommands(c, config, log);
      })().then(resolve, reject);
    });
  });

  client.on(Events.GuildCreate, handler.guard('guildCreate', (g) => install(g)));
  // After an outage a guild comes back; it is still ours.
  client.on(Events.GuildAvailable, handler.guard('guildAvailable', async (g) => {
    if (client.isReady()) await install(g);
  }));
  // discord.js emits guildDelete only for a real removal (kick/leave/deleted); an outage is
  // guildUnavailable and keeps the tenant.
  client.on(Events.GuildDelete, handler.guard('guildDelete', async (g) => {
    await uninstall(g.id);
    log.info({ guild: g.id }, 'discord guild removed; tenant uninstalled');
  }));
  const clicks = new AnswerButtonClicks(core.controls, log, opts.clickReplyWithinMs);
  client.on(Events.InteractionCreate, handler.guard('interaction', async (i) => {
    if (i.isChatInputCommand()) await handler.onInteraction(i);
    else if (i.isButton()) await clicks.onButton(i);
  }));
  client.on(Events.MessageCreate, handler.guard('message', (m) => handler.onMessage(m)));
  client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));
  client.on(Events.ShardDisconnect, (_e, id) => log.warn({ shard: id }, 'discord shard disconnected'));

  registerInstallRoutes(core.http, {
    applicationId: config.DISCORD_APPLICATION_ID,
    clientSecret: config.DISCORD_CLIENT_SECRET,
    apiUrl: config.DISCORD_API_URL.replace(/\/+$/, ''),
    publicUrl: config.PUBLIC_URL,
    onInstalled: install,
    states: new OAuthStates(core.database.db),
    log,
  });

  try {
    await client.login(config.DISCORD_TOKEN);
    await ready;
  } catch (err) {
    await client.destroy();
    throw err;
  }
  return {
    client,
    async close() {
      await client.destroy();
    },
  };
}

/** Only the process running shard 0 registers commands: one bulk overwrite per deployment. */
function ownsCommandRegistration(client: Client<true>): boolean {
  const shards = client.options.shards;
  return !Array.isArray(shards) || shards.includes(0);
}

async function registerCommands(client: Client<true>, config: Config, log: Logger): Promise<void> {
  const appId = config.DISCORD_APPLICATION_ID!;
  const route = config.DISCORD_DEV_GUILD_ID ? Routes.applicationGuildCommands(appId, config.DISCORD_DEV_GUILD_ID) : Routes.applicationCommands(appId);
  await client.rest.put(route, { body: commandRegistrationBody() });
  log.info({ scope: config.DISCORD_DEV_GUILD_ID ? 'guild' : 'global' }, 'discord slash commands registered');
}

/**
 * Guilds that removed the bot while no process was connected never send GUILD_DELETE. READY
 * lists every guild of a shard, so an active tenant on one of our shards that READY did not
 * list is gone.
 */
async function reconcileRemovedGuilds(core: DiscordCore, client: Client<true>, log: Logger): Promise<void> {
  const shards = client.options.shards as number[];
  const count = client.options.shardCount ?? 1;
  for (const t of await core.tenants.list()) {
    if (t.platform !== 'discord' || t.status !== 'active' || !/^\d+$/.test(t.externalId)) continue;
    if (!shards.includes(shardOfGuild(t.externalId, count)) || client.guilds.cache.has(t.externalId)) continue;
    await core.tenants.markUninstalled('discord', t.externalId);
    log.info({ guild: t.externalId }, 'discord guild no longer present at READY; tenant uninstalled');
  }
}

/** Runs tasks one after another per key (and concurrently across keys). */
class PerKeyQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run(key: string, task: () => Promise<void>): Promise<void> {
    const next = (this.tails.get(key) ?? Promise.resolve()).catch(() => {}).then(task);
    this.tails.set(key, next);
    const forget = () => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  }
}
