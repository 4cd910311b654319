/**
 * A fake Discord for tests: real HTTP + WebSocket on 127.0.0.1 (port 0), speaking API v10 so a
 * real discord.js client runs against it unchanged.
 *
 *   const discord = await startFakeDiscord({ token: 'T', applicationId: '42' });
 *   const g = discord.addGuild('Acme', ['general']);   // before or after the client connects
 *   new Client({ intents, rest: { api: discord.url } })  // url = http://127.0.0.1:PORT/api
 *   discord.invoke({ guild: g, channel: g.channels[0], user, command: 'llm', path: ['persona','list'] })
 *   discord.sendMessage({ guild: g, channel, author, content: '<@BOT> hi', mentionsBot: true })
 *   discord.click({ guild: g, channel, user, message, customId: 'answer_stop:…' })   // a button click
 *   discord.removeGuild(g.id)
 *
 * REST (under /api/v10): GET /gateway/bot, GET /users/@me, GET /applications/@me,
 * PUT|GET /applications/{app}/commands and /applications/{app}/guilds/{guild}/commands (validated
 * like Discord: names, descriptions, option order and nesting), POST
 * /interactions/{id}/{token}/callback (within 3 s of dispatch, once; 4 = message, 5 = deferred, and
 * for clicks 6 = deferred update / 7 = update of the clicked message), PATCH|DELETE
 * /webhooks/{app}/{token}/messages/{@original|id}, POST /webhooks/{app}/{token} (while the
 * deferred reply still "thinks", it resolves that reply, as Discord does), POST
 * /channels/{id}/messages, PATCH|DELETE /channels/{id}/messages/{id}, GET /channels/{id}/messages
 * (newest first; `before`/`after`, `limit` 1-100; others' text blanked unless the application has
 * the Message Content intent, `setMessageContentIntent(true)`, or the message mentions the bot),
 * POST /oauth2/token, and attachment downloads at /attachments/{id}/{filename}.
 * Message content longer than 2,000 characters, and components Discord would refuse (more than 5
 * rows or 5 buttons a row, a custom_id over 100 or a label over 80 characters, a duplicate
 * custom_id), are refused with Discord's 400 (code 50035). Every message keeps the content and
 * components of each write (`history`, `componentHistory`).
 * `rateLimitNext(pattern)` answers the next matching request with a 429 and retry_after.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGateway, Intents, shardOf } from './discord-gateway.js';
import { optionsFor, type RegisteredCommand } from './discord-commands.js';
import { customIdsOf } from './discord-components.js';
import { handleRest, json, type FakeDiscordState, type FakeInteraction, type RecordedDiscordRequest } from './discord-rest.js';
import {
  type FakeChannel, type FakeGuild, type FakeUser, type MessageRecord,
  MEMBER_PERMISSIONS, Permission, channelPayload, guildPayload, memberPayload, messagePayload, snowflake, userPayload,
} from './discord-payloads.js';

export { Intents, Permission, MEMBER_PERMISSIONS, snowflake, shardOf };
export type { FakeChannel, FakeGuild, FakeUser, MessageRecord, FakeInteraction, RecordedDiscordRequest };

export interface InvokeOptions {
  guild: FakeGuild;
  channel: FakeChannel;
  user: FakeUser;
  command: string;
  /** Subcommand group / subcommand names, e.g. ['persona', 'create']. */
  path?: string[];
  values?: Record<string, string | number | boolean>;
  /** For `attachment` options: the file to serve from the fake CDN. */
  attachment?: { name: string; filename: string; contentType: string; data: Buffer };
  permissions?: bigint;
}

export interface ClickOptions {
  guild: FakeGuild;
  channel: FakeChannel;
  user: FakeUser;
  /** The message whose button is clicked. */
  message: MessageRecord;
  customId: string;
  permissions?: bigint;
  /**
   * Send the click even if the message carries no such button: a forged payload, which Discord
   * itself would never deliver, to show the bot does not rely on that.
   */
  unchecked?: boolean;
}

export interface SendMessageOptions {
  guild?: FakeGuild;
  channel: FakeChannel;
  author: FakeUser;
  content: string;
  mentionsBot?: boolean;
  replyTo?: MessageRecord;
}

export async function startFakeDiscord(opts: { token: string; applicationId: string; botName?: string }) {
  const bot: FakeUser = { id: snowflake(), username: opts.botName ?? 'tenantbot', bot: true };
  const guilds = new Map<string, FakeGuild>();
  const commands = new Map<string, RegisteredCommand[]>(); // '' = global, else guild id
  const interactions = new Map<string, FakeInteraction>();
  const messages = new Map<string, MessageRecord[]>(); // channel id → messages
  const files = new Map<string, Buffer>();
  const requests: RecordedDiscordRequest[] = [];
  const oauthCodes = new Map<string, string>(); // code → guild id
  const rateLimits: { pattern: RegExp; retryAfter: number }[] = [];
  let base = '';

  const interactionChannel = new Map<string, string>();
  const state: FakeDiscordState = {
    token: opts.token, applicationId: opts.applicationId, clientSecret: 'fake-client-secret', bot, base: () => base,
    guilds, commands, interactions, interactionChannel, messages, files, requests, oauthCodes, rateLimits,
    messageContentIntent: false, newMessage, edit, guildOfChannel,
  };
  const server = createServer((req, res) => {
    void handleRest(state, req, res).catch((err) => json(res, 500, { message: String(err), code: 0 }));
  });
  const gateway = new FakeGateway(server, '/gateway', {
    token: opts.token,
    gatewayUrl: () => base.replace(/^http/, 'ws') + '/gateway',
    guildPayload: (id) => guildPayload(guilds.get(id)!),
    readyFor: ([shardId, shardCount]) => ({
      user: { ...userPayload(bot), verified: true, mfa_enabled: false, flags: 0 },
      application: { id: opts.applicationId, flags: 0 },
      guildIds: [...guilds.keys()].filter((id) => shardOf(id, shardCount) === shardId),
    }),
  });

  function guildOfChannel(channelId: string): FakeGuild | undefined {
    return [...guilds.values()].find((g) => g.channels.some((c) => c.id === channelId));
  }
  function newMessage(channelId: string, content: string, extra: Partial<MessageRecord> = {}): MessageRecord {
    const m: MessageRecord = { id: snowflake(), channel_id: channelId, author: userPayload(bot), content, flags: 0, edits: 0, history: [content], ...extra, components: extra.components ?? [], componentHistory: [] };
    m.componentHistory.push(m.components);
    const list = messages.get(channelId) ?? [];
    list.push(m);
    messages.set(channelId, list);
    return m;
  }
  function edit(m: MessageRecord, content: string | undefined, components?: unknown[]) {
    if (content === undefined && components === undefined) return;
    if (content !== undefined) m.content = content;
    if (components !== undefined) m.components = components;
    m.edits += 1;
    m.history.push(m.content);
    m.componentHistory.push(m.components);
  }

  /** INTERACTION_CREATE of `type` (2 = command, 3 = component) from a member in a guild channel; `extra` is the type's own part. */
  function dispatchInteraction(
    type: 2 | 3,
    o: { guild: FakeGuild; channel: FakeChannel; user: FakeUser; permissions?: bigint },
    extra: Record<string, unknown>,
    message?: MessageRecord,
  ): FakeInteraction {
    const id = snowflake();
    const token = `itok-${id}`;
    const it: FakeInteraction = { id, type, token, dispatchedAt: Date.now(), callback: null, original: null, followUps: [], expired: false, ...(message ? { message } : {}) };
    interactions.set(token, it);
    interactionChannel.set(token, o.channel.id);
    gateway.dispatch('INTERACTION_CREATE', {
      id, application_id: opts.applicationId, type, token, version: 1,
      guild_id: o.guild.id, channel_id: o.channel.id, channel: channelPayload(o.channel, o.guild.id),
      member: memberPayload(o.user, o.permissions ?? MEMBER_PERMISSIONS),
      app_permissions: MEMBER_PERMISSIONS.toString(), locale: 'en-US', guild_locale: 'en-US', entitlements: [],
      authorizing_integration_owners: { '0': o.guild.id }, context: 0, attachment_size_limit: 10_485_760,
      ...extra,
    }, 0);
    return it;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake = {
    /** REST base for DISCORD_API_URL (discord.js appends /v10). */
    url: `${base}/api`,
    bot,
    applicationId: opts.applicationId,
    clientSecret: state.clientSecret,
    gateway,
    requests,
    interactions,
    commands,
    messages,
    /** A guild (with text channels named `channels`); announced at once if a client is connected. */
    addGuild(name: string, channels: string[] = ['general'], id = snowflake()): FakeGuild {
      const g: FakeGuild = { id, name, ownerId: snowflake(), channels: channels.map((c) => ({ id: snowflake(), name: c, type: 0 })) };
      guilds.set(g.id, g);
      gateway.dispatch('GUILD_CREATE', guildPayload(g), Intents.Guilds);
      return g;
    },
    /** A public thread under `parent`, announced with THREAD_CREATE. */
    addThread(g: FakeGuild, parent: FakeChannel, name: string): FakeChannel {
      const t: FakeChannel = { id: snowflake(), name, type: 11, parentId: parent.id };
      g.channels.push(t);
      gateway.dispatch('THREAD_CREATE', { ...channelPayload(t, g.id), newly_created: true }, Intents.Guilds);
      return t;
    },
    /** The bot was removed (or, with `unavailable`, the guild had an outage). */
    removeGuild(id: string, unavailable = false): void {
      if (!unavailable) guilds.delete(id);
      gateway.dispatch('GUILD_DELETE', { id, ...(unavailable ? { unavailable: true } : {}) }, Intents.Guilds);
    },
    /** Dispatches a slash command interaction; the options come from the REGISTERED definition. */
    invoke(o: InvokeOptions): FakeInteraction {
      const registered = [...(commands.get('') ?? []), ...(commands.get(o.guild.id) ?? [])].find((c) => c.name === o.command);
      if (!registered) throw new Error(`command /${o.command} is not registered`);
      let resolved: any;
      if (o.attachment) {
        const attId = snowflake();
        const p = `/attachments/${attId}/${o.attachment.filename}`;
        files.set(p, o.attachment.data);
        resolved = { attachments: { [attId]: { id: attId, filename: o.attachment.filename, size: o.attachment.data.length, url: base + p, proxy_url: base + p, content_type: o.attachment.contentType } } };
        o = { ...o, values: { ...o.values, [o.attachment.name]: attId } };
      }
      return dispatchInteraction(2, o, {
        data: { id: registered.id, name: o.command, type: 1, options: optionsFor(registered, o.path ?? [], o.values ?? {}), ...(resolved ? { resolved } : {}) },
      });
    },
    /**
     * Dispatches a button click (a MESSAGE_COMPONENT interaction, type 3) on `message`, as the
     * clicking member; only for a button the message carries, unless `unchecked`.
     */
    click(o: ClickOptions): FakeInteraction {
      if (!o.unchecked && !customIdsOf(o.message.components).includes(o.customId)) throw new Error(`message ${o.message.id} has no button ${o.customId}`);
      return dispatchInteraction(3, o, { message: messagePayload(o.message), data: { custom_id: o.customId, component_type: 2 } }, o.message);
    },
    /** The developer portal's Message Content switch: reads of messages show others' text only with it. */
    setMessageContentIntent(on: boolean): void {
      state.messageContentIntent = on;
    },
    /** Dispatches MESSAGE_CREATE; content is blanked for sessions without Message Content when
     * the message neither mentions the bot nor is a DM, as Discord does. */
    sendMessage(o: SendMessageOptions): MessageRecord {
      const msg = newMessage(o.channel.id, o.content, {
        author: userPayload(o.author), guild_id: o.guild?.id,
        ...(o.replyTo ? { message_reference: { message_id: o.replyTo.id, channel_id: o.channel.id, guild_id: o.guild?.id } } : {}),
      });
      const mentions = o.mentionsBot || o.replyTo?.author.id === bot.id ? [{ ...userPayload(bot), member: memberPayload(null) }] : [];
      const payload = messagePayload(msg, {
        ...(o.guild ? { member: memberPayload(null) } : { channel_type: 1 }),
        mentions,
        ...(o.replyTo ? { referenced_message: messagePayload(o.replyTo) } : {}),
      });
      const isDm = !o.guild;
      gateway.dispatch('MESSAGE_CREATE', payload, isDm ? Intents.DirectMessages : Intents.GuildMessages, (s, d) =>
        (s.intents & Intents.MessageContent) || isDm || mentions.length ? d : { ...d, content: '', embeds: [], attachments: [] });
      return msg;
    },
    /** The 15-minute interaction token ran out: webhook calls now fail like Discord's. */
    expireInteraction(token: string): void {
      interactions.get(token)!.expired = true;
    },
    rateLimitNext(pattern: RegExp, retryAfterSeconds = 0.2): void {
      rateLimits.push({ pattern, retryAfter: retryAfterSeconds });
    },
    /** A code the fake's OAuth2 token endpoint accepts once, for `guildId`. */
    issueOAuthCode(guildId: string): string {
      const code = `code-${snowflake()}`;
      oauthCodes.set(code, guildId);
      return code;
    },
    channelMessages(channelId: string): MessageRecord[] {
      return messages.get(channelId) ?? [];
    },
    async close(): Promise<void> {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

export type FakeDiscord = Awaited<ReturnType<typeof startFakeDiscord>>;
