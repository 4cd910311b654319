/**
 * Serves the embedded database to other processes on this machine (`npm run admin`, a second
 * `npm run chat`) over a unix socket, speaking the PostgreSQL wire protocol: pglite-socket's
 * connection handler does the framing, GatedSocketQueue keeps sessions apart.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';
import type { SessionGate } from './session-gate.js';
import { GatedSocketQueue } from './socket-queue.js';

export interface EmbeddedServerOptions {
  db: PGlite;
  gate: SessionGate;
  /** Unix socket path. */
  path: string;
  /** A connection silent this long is closed (and what it left open rolled back). */
  idleTimeoutMs?: number;
  maxConnections?: number;
}

export class EmbeddedServer {
  private server: Server | null = null;
  private readonly handlers = new Set<PGLiteSocketHandler>();
  private readonly queue: GatedSocketQueue;

  constructor(private readonly o: EmbeddedServerOptions) {
    this.queue = new GatedSocketQueue(o.db, o.gate);
  }

  async start(): Promise<void> {
    // A socket file left by a process that died would make listen() fail.
    rmSync(this.o.path, { force: true });
    const server = createServer((socket) => void this.accept(socket));
    server.maxConnections = this.o.maxConnections ?? 16;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  private async accept(socket: Socket): Promise<void> {
    const handler = new PGLiteSocketHandler({
      // The handler's queue type is pglite-socket's own class; ours keeps its three-method contract.
      queryQueue: this.queue as unknown as ConstructorParameters<typeof PGLiteSocketHandler>[0]['queryQueue'],
      closeOnDetach: true,
      idleTimeout: this.o.idleTimeoutMs ?? 30_000,
    });
    this.handlers.add(handler);
    handler.addEventListener('close', () => this.handlers.delete(handler));
    try {
      await handler.attach(socket);
    } catch {
      this.handlers.delete(handler);
      socket.destroy();
    }
  }

  /** Stops accepting, closes every client (rolling back what they left open). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const h of [...this.handlers]) await h.detach(true).catch(() => undefined);
    this.handlers.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.o.path, { force: true });
  }
}
