/**
 * A fake Slack: the Web API (`/api/<method>`, form or JSON bodies, Bearer tokens) and file
 * downloads over real HTTP on 127.0.0.1, plus the Slack side of the Events API (requests signed
 * with the v0 HMAC scheme). Records every call with the token it used.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { blockProblems, chunkBlocks, FakeAssistantState, parseJson } from './slack-ai.js';

// Signed deliveries and payload builders (the Slack side of the Events API).
export * from './slack-payloads.js';

export interface FakeUser {
  isAdmin?: boolean;
  isOwner?: boolean;
  isBot?: boolean;
}

export interface FakeWorkspace {
  teamId: string;
  teamName: string;
  enterpriseId?: string;
  /** Org-wide install: the installation key is the enterprise id. */
  isEnterpriseInstall?: boolean;
  botUserId: string;
  botId: string;
  botToken: string;
  installerUserId: string;
  /** The OAuth code the authorize page would hand back for this workspace. */
  code: string;
  users?: Record<string, FakeUser>;
  /** Token rotation: the exchange returns a refresh token and a bot token that expires in this many seconds. */
  rotateAfterSec?: number;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  text: string;
  user?: string;
  botId?: string;
  threadTs?: string;
  token?: string;
  streaming?: boolean;
  /** When its stream started (Slack stops taking appends after `streamMaxAgeMs`). */
  streamStartedAt?: number;
  /** Its Block Kit blocks (chat.update without `blocks` keeps them, an empty list takes them away). */
  blocks?: any[];
  /** Every version of its blocks, in order (what the user saw over time). */
  blockHistory?: any[][];
  edits: number;
  deleted?: boolean;
}

export interface RecordedCall {
  method: string;
  token: string | undefined;
  args: Record<string, any>;
  /** The HTTP status the fake answered. */
  status: number;
  /** `error` of an ok:false answer. */
  error?: string;
}

export interface FakeFile {
  id: string;
  teamId: string;
  name: string;
  mimetype: string;
  data: Buffer;
}

export type StreamBehaviour = 'ok' | 'not_allowed' | 'unknown_method';

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly messages: FakeMessage[] = [];
  /** Bodies POSTed to response URLs (slash command replies), by response URL id. */
  readonly responses: Array<{ id: string; body: Record<string, any> }> = [];
  streamBehaviour: StreamBehaviour = 'ok';
  /** A stream older than this answers message_not_in_streaming_state to appends (Slack: about 5 minutes). */
  streamMaxAgeMs = 5 * 60_000;
  /** Thread statuses, suggested prompts and titles (assistant.threads.*). */
  readonly assistant = new FakeAssistantState();
  /** Channels the bot is not a member of: posting there answers not_in_channel. */
  readonly notInChannel = new Set<string>();
  readonly clientId = 'fake-client-id';
  readonly clientSecret = 'fake-client-secret';
  private readonly workspaces: FakeWorkspace[] = [];
  private readonly files = new Map<string, FakeFile>();
  private readonly rateLimits = new Map<string, { times: number; retryAfter: number }>();
  /** Rotated bot tokens (and refresh tokens) still valid, by token, to their workspace. */
  private readonly rotated = new Map<string, FakeWorkspace>();
  private readonly refreshTokens = new Map<string, FakeWorkspace>();
  private seq = 0;
  private server!: Server;
  /** Socket Mode: the app-level token apps.connections.open accepts, the open sockets, acked envelopes. */
  private socketToken: string | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new Set<WebSocket>();
  readonly socketAcks: string[] = [];
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss?.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Turns on Socket Mode: apps.connections.open (with `appToken`) hands out a WebSocket on this server. */
  enableSocketMode(appToken: string): void {
    this.socketToken = appToken;
    const wss = new WebSocketServer({ noServer: true });
    this.wss = wss;
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/socket')) return void socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on('message', (data) => {
          const m = JSON.parse(String(data)) as { envelope_id?: string };
          if (m.envelope_id) this.socketAcks.push(m.envelope_id);
        });
        ws.on('close', () => this.sockets.delete(ws));
        ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0FAKEAPP' } }));
      });
    });
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  /** Sends one envelope to every connected app and resolves with its id once one has acked it. */
  async socketDeliver(type: 'events_api' | 'slash_commands', payload: Record<string, unknown>): Promise<string> {
    const id = `env-${this.nextTs()}`;
    const envelope = { envelope_id: id, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: 0, retry_reason: '' };
    for (const ws of this.sockets) ws.send(JSON.stringify(envelope));
    for (let i = 0; i < 500 && !this.socketAcks.includes(id); i++) await new Promise((r) => setTimeout(r, 10));
    if (!this.socketAcks.includes(id)) throw new Error(`envelope ${id} was not acked`);
    return id;
  }

  /** A response_url for a slash command delivery. */
  responseUrl(id: string): string {
    return `${this.url}/respond/${id}`;
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  addWorkspace(ws: FakeWorkspace): FakeWorkspace {
    this.workspaces.push(ws);
    return ws;
  }

  /** Puts a message into a channel as if a person had written it (for conversations.replies). */
  addMessage(m: Omit<FakeMessage, 'edits'>): FakeMessage {
    const msg = { ...m, edits: 0 };
    this.messages.push(msg);
    return msg;
  }

  addFile(f: FakeFile): FakeFile {
    this.files.set(f.id, f);
    return f;
  }

  /** The next `times` calls of `method` answer HTTP 429 with Retry-After. */
  rateLimit(method: string, times: number, retryAfter = 1): void {
    this.rateLimits.set(method, { times, retryAfter });
  }

  nextTs(): string {
    this.seq += 1;
    return `${1_700_000_000 + this.seq}.${String(this.seq).padStart(6, '0')}`;
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Messages the bot of `botToken` wrote (not deleted). */
  botMessages(botToken: string): FakeMessage[] {
    return this.messages.filter((m) => m.token === botToken && !m.deleted);
  }

  private workspaceByToken(token: string | undefined): FakeWorkspace | undefined {
    return token ? (this.workspaces.find((w) => w.botToken === token) ?? this.rotated.get(token)) : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const auth = req.headers.authorization?.replace(/^Bearer\s+/i, '');
    if (req.method === 'GET' && url.pathname.startsWith('/files/')) return this.download(url.pathname.slice(7), auth, res);
    if (req.method === 'POST' && url.pathname.startsWith('/respond/')) {
      this.responses.push({ id: url.pathname.slice(9), body: await readArgs(req) });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return void res.end('ok');
    }
    if (req.method !== 'POST' || !url.pathname.startsWith('/api/')) return void res.writeHead(404).end();
    const method = url.pathname.slice(5);
    const args = await readArgs(req);
    const token = auth ?? (typeof args.token === 'string' ? args.token : undefined);
    const limited = this.rateLimits.get(method);
    if (limited && limited.times > 0) {
      limited.times -= 1;
      this.calls.push({ method, token, args, status: 429 });
      res.writeHead(429, { 'Retry-After': String(limited.retryAfter), 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
    }
    const result = this.dispatch(method, token, args);
    this.calls.push({ method, token, args, status: 200, ...(result.ok ? {} : { error: String(result.error) }) });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(result));
  }

  private dispatch(method: string, token: string | undefined, a: Record<string, any>): Record<string, unknown> {
    if (method === 'oauth.v2.access') return this.oauthAccess(a);
    if (method === 'apps.connections.open') {
      if (!this.socketToken || token !== this.socketToken) return { ok: false, error: 'invalid_auth' };
      return { ok: true, url: `${this.url.replace(/^http/, 'ws')}/socket?ticket=${this.nextTs()}` };
    }
    const ws = this.workspaceByToken(token);
    if (!ws) return { ok: false, error: 'invalid_auth' };
    const assistant = this.assistant.dispatch(method, a);
    if (assistant) return assistant;
    const problems = blockProblems(a.blocks);
    if (problems) return { ok: false, error: 'invalid_blocks', errors: problems };
    switch (method) {
      case 'auth.test':
        return { ok: true, url: `https://${ws.teamId.toLowerCase()}.slack.test/`, team: ws.teamName, team_id: ws.teamId, user_id: ws.botUserId, bot_id: ws.botId, enterprise_id: ws.enterpriseId };
      case 'chat.postMessage': {
        if (this.notInChannel.has(a.channel)) return { ok: false, error: 'not_in_channel' };
        const m = this.addMessage({ channel: a.channel, ts: this.nextTs(), text: String(a.text ?? ''), botId: ws.botId, user: ws.botUserId, threadTs: a.thread_ts, token });
        this.setBlocks(m, parseJson(a.blocks));
        this.assistant.posted(a.channel, a.thread_ts);
        return { ok: true, channel: a.channel, ts: m.ts, message: { text: m.text } };
      }
      case 'chat.update': {
        const m = this.find(a.channel, a.ts);
        if (!m || m.token !== token) return { ok: false, error: 'message_not_found' };
        m.text = String(a.text ?? '');
        this.setBlocks(m, parseJson(a.blocks));
        m.edits += 1;
        return { ok: true, channel: a.channel, ts: m.ts };
      }
      case 'chat.delete': {
        const m = this.find(a.channel, a.ts);
        if (!m || m.token !== token) return { ok: false, error: 'message_not_found' };
        m.deleted = true;
        return { ok: true };
      }
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'chat.startStream': {
        if (this.streamBehaviour !== 'ok') return { ok: false, error: this.streamBehaviour };
        if (!a.thread_ts) return { ok: false, error: 'invalid_arguments' };
        const problems = blockProblems(chunkBlocks(a));
        if (problems) return { ok: false, error: 'invalid_blocks', errors: problems };
        const m = this.addMessage({ channel: a.channel, ts: this.nextTs(), text: chunkText(a), botId: ws.botId, user: ws.botUserId, threadTs: a.thread_ts, token, streaming: true, streamStartedAt: Date.now() });
        this.setBlocks(m, chunkBlocks(a));
        this.assistant.posted(a.channel, a.thread_ts);
        return { ok: true, channel: a.channel, ts: m.ts };
      }
      case 'chat.appendStream':
      case 'chat.stopStream': {
        if (this.streamBehaviour !== 'ok') return { ok: false, error: this.streamBehaviour };
        const m = this.find(a.channel, a.ts);
        if (!m || m.token !== token) return { ok: false, error: 'message_not_found' };
        if (m.streaming && m.streamStartedAt !== undefined && Date.now() - m.streamStartedAt > this.streamMaxAgeMs) m.streaming = false;
        if (!m.streaming) return { ok: false, error: 'message_not_in_streaming_state' };
        m.text += chunkText(a);
        const added = [...chunkBlocks(a), ...(parseJson(a.blocks) ?? [])];
        if (added.length) this.setBlocks(m, [...(m.blocks ?? []), ...added]);
        m.edits += 1;
        if (method === 'chat.stopStream') m.streaming = false;
        return { ok: true, channel: a.channel, ts: m.ts };
      }
      case 'conversations.replies': {
        const thread = this.messages.filter((m) => m.channel === a.channel && (m.ts === a.ts || m.threadTs === a.ts) && !m.deleted);
        return {
          ok: true,
          messages: thread.map((m) => ({ type: 'message', ts: m.ts, text: m.text, user: m.user, ...(m.botId ? { bot_id: m.botId } : {}), ...(m.threadTs ? { thread_ts: m.threadTs } : {}) })),
          has_more: false,
        };
      }
      case 'users.info': {
        const u = ws.users?.[a.user];
        if (!u) return { ok: false, error: 'user_not_found' };
        return { ok: true, user: { id: a.user, team_id: ws.teamId, is_admin: !!u.isAdmin, is_owner: !!u.isOwner, is_bot: !!u.isBot } };
      }
      case 'files.info': {
        const f = this.files.get(a.file);
        if (!f || f.teamId !== ws.teamId) return { ok: false, error: 'file_not_found' };
        return { ok: true, file: this.fileObject(f) };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  fileObject(f: FakeFile): Record<string, unknown> {
    const link = `${this.url}/files/${f.id}`;
    return { id: f.id, name: f.name, title: f.name, mimetype: f.mimetype, size: f.data.length, url_private: link, url_private_download: link };
  }

  private oauthAccess(a: Record<string, any>): Record<string, unknown> {
    if (a.client_id !== this.clientId || a.client_secret !== this.clientSecret) return { ok: false, error: 'invalid_client_id' };
    if (a.grant_type === 'refresh_token') {
      const owner = this.refreshTokens.get(a.refresh_token);
      if (!owner) return { ok: false, error: 'invalid_refresh_token' };
      this.refreshTokens.delete(a.refresh_token);
      const n = this.rotated.size + 1;
      const token = `${owner.botToken}.r${n}`;
      this.rotated.set(token, owner);
      this.refreshTokens.set(`xoxe-refresh-${owner.teamId}-${n}`, owner);
      return { ok: true, token_type: 'bot', access_token: token, refresh_token: `xoxe-refresh-${owner.teamId}-${n}`, expires_in: 43_200, scope: 'chat:write', bot_user_id: owner.botUserId, app_id: 'A0FAKEAPP', team: { id: owner.teamId, name: owner.teamName } };
    }
    const ws = this.workspaces.find((w) => w.code === a.code);
    if (!ws) return { ok: false, error: 'invalid_code' };
    return {
      ok: true,
      app_id: 'A0FAKEAPP',
      access_token: ws.botToken,
      token_type: 'bot',
      scope: 'app_mentions:read,chat:write,im:history,users:read,files:read,channels:history',
      bot_user_id: ws.botUserId,
      team: ws.isEnterpriseInstall ? null : { id: ws.teamId, name: ws.teamName },
      enterprise: ws.enterpriseId ? { id: ws.enterpriseId, name: `${ws.teamName} Org` } : null,
      is_enterprise_install: !!ws.isEnterpriseInstall,
      authed_user: { id: ws.installerUserId },
      ...(ws.rotateAfterSec ? { refresh_token: this.issueRefresh(ws), expires_in: ws.rotateAfterSec } : {}),
    };
  }

  private issueRefresh(ws: FakeWorkspace): string {
    const t = `xoxe-refresh-${ws.teamId}-0`;
    this.refreshTokens.set(t, ws);
    return t;
  }

  /** `undefined` keeps the message's blocks (Slack's chat.update); a list replaces them. */
  private setBlocks(m: FakeMessage, blocks: any[] | undefined): void {
    if (!Array.isArray(blocks)) return;
    m.blocks = blocks;
    (m.blockHistory ??= []).push(blocks);
  }

  private find(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  private download(id: string, token: string | undefined, res: ServerResponse): void {
    const f = this.files.get(id);
    const ws = this.workspaceByToken(token);
    this.calls.push({ method: 'files.download', token, args: { id }, status: f && ws?.teamId === f.teamId ? 200 : 403 });
    if (!f || ws?.teamId !== f.teamId) return void res.writeHead(403).end();
    res.writeHead(200, { 'Content-Type': f.mimetype, 'Content-Length': String(f.data.length) });
    res.end(f.data);
  }
}

function chunkText(a: Record<string, any>): string {
  let text = typeof a.markdown_text === 'string' ? a.markdown_text : '';
  const chunks = parseJson(a.chunks);
  for (const c of Array.isArray(chunks) ? chunks : []) if (c?.type === 'markdown_text') text += String(c.text ?? '');
  return text;
}

async function readArgs(req: IncomingMessage): Promise<Record<string, any>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('application/json')) return raw ? JSON.parse(raw) : {};
  return Object.fromEntries(new URLSearchParams(raw));
}

export async function startFakeSlack(): Promise<FakeSlack> {
  return new FakeSlack().start();
}
