/**
 * Wire payloads for the fake Discord (API v10 shapes, trimmed to what a real gateway sends and
 * discord.js reads): snowflakes, users, guilds, members, messages, interactions.
 */

const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A real-shaped snowflake: ms since the Discord epoch << 22 | a counter. */
export function snowflake(): string {
  increment = (increment + 1n) % 4096n;
  return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | increment).toString();
}

export interface FakeUser {
  id: string;
  username: string;
  bot?: boolean;
}

export function userPayload(u: FakeUser) {
  return { id: u.id, username: u.username, global_name: u.username, discriminator: '0', avatar: null, bot: u.bot ?? false, public_flags: 0 };
}

export const Permission = {
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ReadMessageHistory: 1n << 16n,
  ManageGuild: 1n << 5n,
  Administrator: 1n << 3n,
  SendMessagesInThreads: 1n << 38n,
} as const;

/** An ordinary member's computed channel permissions. */
export const MEMBER_PERMISSIONS = Permission.ViewChannel | Permission.SendMessages | Permission.ReadMessageHistory | Permission.SendMessagesInThreads;

export function memberPayload(u: FakeUser | null, permissions?: bigint) {
  return {
    ...(u ? { user: userPayload(u) } : {}),
    roles: [],
    joined_at: new Date(0).toISOString(),
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    nick: null,
    avatar: null,
    ...(permissions !== undefined ? { permissions: permissions.toString() } : {}),
  };
}

export interface FakeChannel {
  id: string;
  name: string;
  /** 0 = guild text, 11 = public thread. */
  type: number;
  parentId?: string;
}

export interface FakeGuild {
  id: string;
  name: string;
  ownerId: string;
  channels: FakeChannel[];
}

export function channelPayload(c: FakeChannel, guildId?: string) {
  const base = {
    id: c.id,
    type: c.type,
    name: c.name,
    ...(guildId ? { guild_id: guildId } : {}),
    parent_id: c.parentId ?? null,
    position: 0,
    permission_overwrites: [],
    nsfw: false,
    last_message_id: null,
    rate_limit_per_user: 0,
    flags: 0,
  };
  if (c.type !== 11) return base;
  return {
    ...base,
    owner_id: '0',
    message_count: 0,
    member_count: 1,
    thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false },
  };
}

export function guildPayload(g: FakeGuild) {
  const threads = g.channels.filter((c) => c.type === 11);
  return {
    id: g.id,
    name: g.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: g.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [
      { id: g.id, name: '@everyone', color: 0, hoist: false, position: 0, permissions: MEMBER_PERMISSIONS.toString(), managed: false, mentionable: false, flags: 0 },
    ],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    joined_at: new Date().toISOString(),
    large: false,
    unavailable: false,
    member_count: 2,
    voice_states: [],
    members: [],
    channels: g.channels.filter((c) => c.type !== 11).map((c) => channelPayload(c)),
    threads: threads.map((c) => channelPayload(c, g.id)),
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

export interface MessageRecord {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: ReturnType<typeof userPayload>;
  content: string;
  flags: number;
  message_reference?: { message_id: string; channel_id?: string; guild_id?: string };
  webhook_id?: string;
  /** Action rows of buttons, as the last write left them. */
  components: unknown[];
  /** How many times the message was edited (the fake's own bookkeeping). */
  edits: number;
  /** Every content the message had, in order. */
  history: string[];
  /** The components it had with each of those contents (the same index). */
  componentHistory: unknown[][];
}

export function messagePayload(m: MessageRecord, extra: Record<string, unknown> = {}) {
  return {
    id: m.id,
    type: m.message_reference ? 19 : 0,
    channel_id: m.channel_id,
    ...(m.guild_id ? { guild_id: m.guild_id } : {}),
    author: m.author,
    content: m.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: m.edits ? new Date().toISOString() : null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    flags: m.flags,
    components: m.components,
    ...(m.message_reference ? { message_reference: { type: 0, ...m.message_reference } } : {}),
    ...(m.webhook_id ? { webhook_id: m.webhook_id } : {}),
    ...extra,
  };
}
