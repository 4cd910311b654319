/**
 * The fake Discord's REST API (see discord.ts for the list of routes). Every handler works on
 * the shared FakeDiscordState, so tests see exactly what a client did.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { registerOrThrow, type RegisteredCommand } from './discord-commands.js';
import { componentErrors, invalidFormBody } from './discord-components.js';
import { messagePayload, snowflake, userPayload, type FakeGuild, type FakeUser, type MessageRecord } from './discord-payloads.js';

export interface RecordedDiscordRequest {
  method: string;
  /** Path after /api/v10, e.g. /channels/1/messages. */
  path: string;
  query: URLSearchParams;
  body: any;
  authorized: boolean;
}

export interface FakeInteraction {
  id: string;
  /** 2 = application command, 3 = message component (a button click). */
  type: number;
  token: string;
  dispatchedAt: number;
  /** The callback type (4 = message, 5 = deferred, 6 = deferred update of a clicked message) and its flags (64 = ephemeral). */
  callback: { type: number; flags: number } | null;
  original: MessageRecord | null;
  followUps: MessageRecord[];
  /** For a click: the message whose button was clicked. */
  message?: MessageRecord;
  expired: boolean;
}

export interface FakeDiscordState {
  token: string;
  applicationId: string;
  clientSecret: string;
  bot: FakeUser;
  base(): string;
  guilds: Map<string, FakeGuild>;
  /** '' = global commands, else a guild id. */
  commands: Map<string, RegisteredCommand[]>;
  /** By interaction token. */
  interactions: Map<string, FakeInteraction>;
  interactionChannel: Map<string, string>;
  /** Channel id → messages in order. */
  messages: Map<string, MessageRecord[]>;
  /** CDN path → bytes. */
  files: Map<string, Buffer>;
  requests: RecordedDiscordRequest[];
  /** OAuth code → guild id. */
  oauthCodes: Map<string, string>;
  rateLimits: { pattern: RegExp; retryAfter: number }[];
  /** The application's Message Content intent (the developer portal's switch): without it, reads of messages blank others' content. */
  messageContentIntent: boolean;
  newMessage(channelId: string, content: string, extra?: Partial<MessageRecord>): MessageRecord;
  /** A write to a message: new content and/or components (undefined leaves each as it is). */
  edit(m: MessageRecord, content: string | undefined, components?: unknown[]): void;
  guildOfChannel(channelId: string): FakeGuild | undefined;
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  // A 204 carries no body and no content type (a JSON type would make clients parse nothing).
  res.writeHead(status, body === undefined ? headers : { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}
const tooLong = (res: ServerResponse) =>
  json(res, 400, { message: 'Invalid Form Body', code: 50035, errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } } });

/** Discord's 400 for a message body it refuses (content too long, invalid components), or null. */
function refusal(res: ServerResponse, body: { content?: unknown; components?: unknown } | undefined): boolean {
  if (typeof body?.content === 'string' && body.content.length > 2000) {
    tooLong(res);
    return true;
  }
  const errors = componentErrors(body?.components);
  if (errors.length === 0) return false;
  json(res, 400, invalidFormBody(errors));
  return true;
}

/** What a read of a channel's messages shows of one: others' text only with the Message Content intent (or where it mentions the bot, or in a DM). */
function asRead(s: FakeDiscordState, m: MessageRecord) {
  const visible = s.messageContentIntent || !m.guild_id || m.author.id === s.bot.id || new RegExp(`<@!?${s.bot.id}>`).test(m.content);
  return messagePayload(visible ? m : { ...m, content: '' });
}

/** GET /channels/{id}/messages: newest first, `before`/`after` a snowflake, `limit` 1-100 (default 50). */
function readMessages(s: FakeDiscordState, res: ServerResponse, channelId: string, query: URLSearchParams) {
  const limit = query.has('limit') ? Number(query.get('limit')) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    return json(res, 400, { message: 'Invalid Form Body', code: 50035, errors: { limit: { _errors: [{ code: 'NUMBER_TYPE_MAX', message: 'int value should be between 1 and 100.' }] } } });
  const before = query.get('before');
  const after = query.get('after');
  const picked = (s.messages.get(channelId) ?? [])
    .filter((x) => (before ? BigInt(x.id) < BigInt(before) : true) && (after ? BigInt(x.id) > BigInt(after) : true))
    .slice()
    .reverse()
    .slice(0, limit);
  return json(res, 200, picked.map((x) => asRead(s, x)));
}

async function readBody(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return undefined;
  if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  return JSON.parse(raw);
}

export async function handleRest(s: FakeDiscordState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', s.base());
  if (url.pathname.startsWith('/attachments/')) {
    // The CDN: no bot token needed, and a real client must not send one.
    s.requests.push({ method: 'GET', path: url.pathname, query: url.searchParams, body: undefined, authorized: Boolean(req.headers.authorization) });
    const data = s.files.get(url.pathname);
    if (!data) return json(res, 404, { message: 'Not found' });
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    return void res.end(data);
  }
  const path = decodeURIComponent(url.pathname.replace(/^\/api(\/v10)?/, ''));
  const body = await readBody(req);
  const authorized = req.headers.authorization === `Bot ${s.token}`;
  const method = req.method ?? 'GET';
  s.requests.push({ method, path, query: url.searchParams, body, authorized });
  const limited = s.rateLimits.findIndex((r) => r.pattern.test(`${method} ${path}`));
  if (limited >= 0) {
    const [r] = s.rateLimits.splice(limited, 1);
    return json(res, 429, { message: 'You are being rate limited.', retry_after: r!.retryAfter, global: false },
      { 'retry-after': String(Math.ceil(r!.retryAfter)), 'x-ratelimit-scope': 'user' });
  }
  const needsAuth = !/^\/(interactions|webhooks)\//.test(path) && path !== '/oauth2/token';
  if (needsAuth && !authorized) return json(res, 401, { message: '401: Unauthorized', code: 0 });
  let m: RegExpMatchArray | null;

  if (method === 'GET' && path === '/gateway/bot')
    return json(res, 200, { url: s.base().replace(/^http/, 'ws') + '/gateway', shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 } });
  if (method === 'GET' && path === '/users/@me') return json(res, 200, userPayload(s.bot));
  if (method === 'GET' && path === '/applications/@me') return json(res, 200, { id: s.applicationId, name: s.bot.username, flags: 0, bot: userPayload(s.bot) });

  if ((m = path.match(/^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/))) {
    if (m[1] !== s.applicationId) return json(res, 403, { message: 'Missing Access', code: 50001 });
    const key = m[2] ?? '';
    if (method === 'GET') return json(res, 200, s.commands.get(key) ?? []);
    if (method === 'PUT') {
      try {
        const registered = registerOrThrow(body, s.applicationId, m[2]);
        s.commands.set(key, registered);
        return json(res, 200, registered);
      } catch (err) {
        // Discord's shape: `errors` is an object of field paths to `_errors` lists.
        return json(res, 400, { message: 'Invalid Form Body', code: 50035, errors: { _errors: [{ code: 'BASE_TYPE_INVALID', message: (err as Error).message }] } });
      }
    }
  }

  if (method === 'POST' && (m = path.match(/^\/interactions\/(\d+)\/([^/]+)\/callback$/))) {
    const it = s.interactions.get(m[2]!);
    if (!it || it.id !== m[1] || Date.now() - it.dispatchedAt > 3_000) return json(res, 404, { message: 'Unknown interaction', code: 10062 });
    if (it.callback) return json(res, 400, { message: 'Interaction has already been acknowledged.', code: 40060 });
    const type = Number(body?.type);
    const flags = Number(body?.data?.flags ?? 0);
    // 6 and 7 (update the clicked message) exist for component interactions only.
    const allowed = it.type === 3 ? [4, 5, 6, 7] : [4, 5];
    if (!allowed.includes(type)) return json(res, 400, { message: 'Invalid Form Body', code: 50035, errors: { type: { _errors: [{ code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Interaction response type is invalid.' }] } } });
    if ((type === 4 || type === 7) && refusal(res, body?.data)) return;
    it.callback = { type, flags };
    const channelId = s.interactionChannel.get(it.token)!;
    if (type === 4 || type === 5) {
      const content: string = type === 4 ? (body?.data?.content ?? '') : '';
      const components: unknown[] = type === 4 ? (body?.data?.components ?? []) : [];
      it.original = {
        id: snowflake(), channel_id: channelId, author: userPayload(s.bot), content, flags: flags | (type === 5 ? 128 : 0), components,
        edits: 0, history: type === 4 ? [content] : [], componentHistory: type === 4 ? [components] : [], webhook_id: s.applicationId,
      };
    }
    if (type === 7 && it.message) s.edit(it.message, body?.data?.content, body?.data?.components);
    return url.searchParams.get('with_response') === 'true' ? json(res, 200, { interaction: { id: it.id, type: it.type } }) : json(res, 204, undefined);
  }

  if ((m = path.match(/^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/([^/]+))?$/))) {
    const it = s.interactions.get(m[2]!);
    if (!it || m[1] !== s.applicationId || it.expired) return json(res, 401, { message: 'Invalid Webhook Token', code: 50027 });
    if (!it.callback) return json(res, 404, { message: 'Unknown Webhook', code: 10015 });
    const content: string | undefined = body?.content;
    const components: unknown[] | undefined = body?.components;
    if ((method === 'POST' || method === 'PATCH') && refusal(res, body)) return;
    if (method === 'POST' && !m[3]) {
      // Discord: a follow-up sent while the deferred reply still "thinks" resolves that reply
      // instead, keeping its visibility (the follow-up's own ephemeral flag is ignored).
      if (it.original && it.original.flags & 128) {
        s.edit(it.original, content ?? '', components ?? []);
        it.original.flags &= ~128;
        return json(res, 200, messagePayload(it.original));
      }
      const msg: MessageRecord = {
        id: snowflake(), channel_id: s.interactionChannel.get(it.token)!, author: userPayload(s.bot), content: content ?? '', flags: Number(body?.flags ?? 0),
        components: components ?? [], edits: 0, history: [content ?? ''], componentHistory: [components ?? []], webhook_id: s.applicationId,
      };
      it.followUps.push(msg);
      return json(res, 200, messagePayload(msg));
    }
    const target = m[3] === '@original' ? it.original : it.followUps.find((f) => f.id === m![3]);
    if (!target) return json(res, 404, { message: 'Unknown Message', code: 10008 });
    if (method === 'PATCH') {
      s.edit(target, content, components);
      target.flags &= ~128; // no longer "thinking"
      return json(res, 200, messagePayload(target));
    }
    if (method === 'DELETE') {
      if (m[3] === '@original') it.original = null;
      else it.followUps = it.followUps.filter((f) => f !== target);
      return json(res, 204, undefined);
    }
  }

  if ((m = path.match(/^\/channels\/(\d+)\/messages(?:\/(\d+))?$/))) {
    const channelId = m[1]!;
    const content: string | undefined = body?.content;
    const components: unknown[] | undefined = body?.components;
    if ((method === 'POST' || method === 'PATCH') && refusal(res, body)) return;
    if (method === 'GET' && !m[2]) return readMessages(s, res, channelId, url.searchParams);
    if (method === 'POST' && !m[2]) {
      const ref = body?.message_reference;
      const msg = s.newMessage(channelId, content ?? '', {
        guild_id: s.guildOfChannel(channelId)?.id,
        components: components ?? [],
        ...(ref ? { message_reference: { message_id: String(ref.message_id), channel_id: channelId } } : {}),
      });
      return json(res, 200, messagePayload(msg));
    }
    const msg = (s.messages.get(channelId) ?? []).find((x) => x.id === m![2]);
    if (!msg) return json(res, 404, { message: 'Unknown Message', code: 10008 });
    if (method === 'PATCH') {
      if (msg.author.id !== s.bot.id) return json(res, 403, { message: 'Cannot edit a message authored by another user', code: 50005 });
      s.edit(msg, content, components);
      return json(res, 200, messagePayload(msg));
    }
    if (method === 'DELETE') {
      if (msg.author.id !== s.bot.id) return json(res, 403, { message: 'Missing Permissions', code: 50013 });
      s.messages.set(channelId, (s.messages.get(channelId) ?? []).filter((x) => x !== msg));
      return json(res, 204, undefined);
    }
  }

  if (method === 'POST' && path === '/oauth2/token') {
    const basic = req.headers.authorization?.startsWith('Basic ')
      ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString().split(':')
      : [body?.client_id, body?.client_secret];
    if (basic[0] !== s.applicationId || basic[1] !== s.clientSecret) return json(res, 401, { error: 'invalid_client' });
    const guildId = s.oauthCodes.get(body?.code);
    if (body?.grant_type !== 'authorization_code' || !guildId) return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid "code" in request.' });
    s.oauthCodes.delete(body.code);
    const g = s.guilds.get(guildId);
    return json(res, 200, {
      token_type: 'Bearer', access_token: 'oauth-access', expires_in: 604800, refresh_token: 'oauth-refresh', scope: 'bot applications.commands',
      guild: g ? { id: g.id, name: g.name, owner_id: g.ownerId } : undefined,
    });
  }
  return json(res, 404, { message: '404: Not Found', code: 0 });
}
