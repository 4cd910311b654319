/**
 * The fake Discord's gateway: a WebSocket server speaking the v10 JSON protocol the way
 * @discordjs/ws expects it (`?v=10&encoding=json`, no transport compression):
 *
 *   server → HELLO (op 10, heartbeat_interval)
 *   client → IDENTIFY (op 2: token, intents, shard [id, count])
 *   server → READY (op 0, t READY: user, guilds as unavailable stubs, session_id,
 *            resume_gateway_url, shard, application {id, flags}), then GUILD_CREATE per guild
 *   client → HEARTBEAT (op 1) → server HEARTBEAT_ACK (op 11)
 *   client → RESUME (op 6) → server RESUMED
 *
 * Events go only to the session whose shard owns the guild ((guild_id >> 22) % shard_count, as
 * Discord routes them) and only if that session asked for the event's intent.
 */
import type { IncomingMessage, Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

export const Intents = {
  Guilds: 1 << 0,
  GuildMessages: 1 << 9,
  DirectMessages: 1 << 12,
  MessageContent: 1 << 15,
} as const;

export interface GatewaySession {
  sessionId: string;
  intents: number;
  shard: [number, number];
  socket: WebSocket;
  seq: number;
  /** Query of the connect URL, to check what the client asked for (v, encoding, compress). */
  query: URLSearchParams;
}

export interface GatewayHooks {
  token: string;
  /** The READY payload's user and application, and the guild payloads for a shard. */
  readyFor(shard: [number, number]): { user: unknown; application: unknown; guildIds: string[] };
  guildPayload(guildId: string): unknown;
  /** ws://host:port/path of this gateway (READY's resume_gateway_url). */
  gatewayUrl(): string;
}

/** Discord's sharding formula. */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

export class FakeGateway {
  readonly sessions = new Set<GatewaySession>();
  /** Every identify the gateway accepted, for assertions on intents and shards. */
  readonly identifies: { intents: number; shard: [number, number]; query: URLSearchParams }[] = [];
  private readonly wss: WebSocketServer;

  constructor(
    server: Server,
    readonly path: string,
    private readonly hooks: GatewayHooks,
  ) {
    this.wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req: IncomingMessage, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== path) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, url.searchParams));
    });
  }

  private accept(socket: WebSocket, query: URLSearchParams): void {
    if (query.get('v') !== '10' || query.get('encoding') !== 'json') {
      socket.close(4012, 'Invalid API version');
      return;
    }
    let session: GatewaySession | undefined;
    const send = (payload: unknown) => socket.send(JSON.stringify(payload));
    send({ op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null });
    socket.on('message', (raw) => {
      let msg: { op: number; d: any };
      try {
        msg = JSON.parse(String(raw));
      } catch {
        socket.close(4002, 'Decode error');
        return;
      }
      switch (msg.op) {
        case 1:
          send({ op: 11, d: null, s: null, t: null });
          break;
        case 2: {
          if (msg.d?.token !== this.hooks.token) return socket.close(4004, 'Authentication failed');
          const shard: [number, number] = msg.d.shard ?? [0, 1];
          session = { sessionId: randomBytes(8).toString('hex'), intents: Number(msg.d.intents), shard, socket, seq: 0, query };
          this.identifies.push({ intents: session.intents, shard, query });
          this.sessions.add(session);
          const { user, application, guildIds } = this.hooks.readyFor(shard);
          this.send(session, 'READY', {
            v: 10,
            user,
            guilds: guildIds.map((id) => ({ id, unavailable: true })),
            session_id: session.sessionId,
            resume_gateway_url: this.hooks.gatewayUrl(),
            shard,
            application,
            private_channels: [],
            relationships: [],
            user_settings: {},
            guild_join_requests: [],
            presences: [],
          });
          for (const id of guildIds) this.send(session, 'GUILD_CREATE', this.hooks.guildPayload(id));
          break;
        }
        case 6:
          // A resume after a drop: accept it (the fake keeps no backlog to replay).
          if (msg.d?.token !== this.hooks.token) return socket.close(4004, 'Authentication failed');
          session = { sessionId: msg.d.session_id, intents: 0, shard: [0, 1], socket, seq: Number(msg.d.seq) || 0, query };
          this.sessions.add(session);
          this.send(session, 'RESUMED', {});
          break;
        default:
          break;
      }
    });
    socket.on('close', () => {
      if (session) this.sessions.delete(session);
    });
  }

  send(session: GatewaySession, t: string, d: unknown): void {
    session.seq += 1;
    session.socket.send(JSON.stringify({ op: 0, t, s: session.seq, d }));
  }

  /**
   * Dispatches an event the way Discord would: guild events to the owning shard only, and only
   * to sessions with `intent` (0 = always delivered). `transform` lets a caller change the
   * payload per session (message content stripped without the Message Content intent).
   * Returns how many sessions got it.
   */
  dispatch(t: string, d: any, intent: number, transform?: (s: GatewaySession, d: any) => any): number {
    let n = 0;
    for (const s of this.sessions) {
      if (intent && (s.intents & intent) === 0) continue;
      if (d.guild_id && shardOf(d.guild_id, s.shard[1]) !== s.shard[0]) continue;
      if (t === 'GUILD_CREATE' || t === 'GUILD_DELETE') {
        if (shardOf(d.id, s.shard[1]) !== s.shard[0]) continue;
      }
      this.send(s, t, transform ? transform(s, d) : d);
      n += 1;
    }
    return n;
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.socket.terminate();
    this.sessions.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
