/**
 * Opens the database: postgres.js on a real server when a URL is given, embedded PGlite (with
 * pgvector) under a data folder otherwise. Both yield the same drizzle API.
 *
 * The embedded folder has exactly one owner process (src/db/embedded/owner.ts). The first process
 * to open it owns the PGlite files and serves them on a unix socket; any later process (the
 * operator CLI, a console beside the service) reaches the same database through that socket, so
 * there is only ever one engine, one cache and one writer per folder.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.js';
import { acquireOwnership, type OwnerRecord } from './embedded/owner.js';
import { redactUrl } from '../config-fields.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  /** Which driver runs the queries: postgres.js (a server, or an embedded owner's socket) or PGlite in this process. */
  kind: 'postgres' | 'pglite';
  /** For logs: the server (password redacted), or the embedded folder and this process's role in it. */
  describe: string;
  /** True when the pgvector extension can be used in this database. */
  hasVector(): Promise<boolean>;
  ping(): Promise<void>;
  /**
   * A small pool of its own, for work that must not queue behind everything else (storing an
   * accepted delivery before the platform's ack). The embedded database has one session, so
   * there it is the same `db`.
   */
  dedicated(maxConnections: number): Db;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A postgres:// URL; unset means embedded PGlite. */
  url?: string;
  /** PGlite folder; 'memory://' keeps it in memory (tests). */
  dataDir?: string;
  /** Pool size for postgres.js. */
  maxConnections?: number;
}

/** The embedded folder is owned by another process that cannot be reached. */
export class DataDirHeldError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: OwnerRecord,
    readonly lockFile: string,
    cause?: unknown,
  ) {
    super(
      `${dataDir} is in use by process ${owner.pid} (since ${owner.startedAt}), and its database socket ${owner.socket} ` +
        `does not answer; stop that process, or if it is gone, delete ${lockFile}`,
      { cause },
    );
    this.name = 'DataDirHeldError';
  }
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.url) return openPostgres(opts.url, opts.maxConnections ?? 10, `PostgreSQL at ${redactUrl(opts.url)}`);
  const dataDir = opts.dataDir ?? './data';
  if (dataDir.startsWith('memory://')) return openPglite(dataDir, null);
  const ownership = acquireOwnership(dataDir);
  if (ownership.kind === 'owner') {
    try {
      return await openPglite(dataDir, ownership);
    } catch (err) {
      ownership.release();
      throw err;
    }
  }
  const where = `embedded database in ${resolve(dataDir)} (through process ${ownership.record.pid})`;
  try {
    const database = await openPostgres(`postgres://postgres@localhost/postgres`, opts.maxConnections ?? 2, where, ownership.record.socket);
    await database.ping();
    return database;
  } catch (err) {
    throw new DataDirHeldError(resolve(dataDir), ownership.record, ownership.lockFile, err);
  }
}

async function openPostgres(url: string, max: number, describe: string, socketPath?: string): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  // A database that does not answer fails a query within seconds instead of postgres.js's 30:
  // a delivery that cannot be stored must be refused while the platform still waits.
  const options = { connect_timeout: 3, onnotice: () => {}, ...(socketPath ? { path: socketPath } : {}) };
  const client = postgres(url, { max, ...options });
  const db = drizzle(client, { schema }) as unknown as Db;
  const extra: { end(o: { timeout: number }): Promise<void> }[] = [];
  return {
    db,
    kind: 'postgres',
    describe,
    dedicated(maxConnections) {
      const own = postgres(url, { max: maxConnections, ...options });
      extra.push(own);
      return drizzle(own, { schema }) as unknown as Db;
    },
    async hasVector() {
      const rows = await client`select 1 from pg_available_extensions where name = 'vector'`;
      return rows.length > 0;
    },
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      await Promise.all([client, ...extra].map((c) => c.end({ timeout: 5 })));
    },
  };
}

async function openPglite(dataDir: string, ownership: { record: OwnerRecord; release(): void } | null): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { SessionGate } = await import('./embedded/session-gate.js');
  const inMemory = dataDir.startsWith('memory://');
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  // 'memory://' (not undefined): with an undefined first argument PGlite ignores the options
  // argument, and so the vector extension.
  const client = new PGlite(inMemory ? 'memory://' : `${dataDir.replace(/\/$/, '')}/pg`, { extensions: { vector } });
  await client.waitReady;
  // This process's own queries take turns with socket clients' sessions (see session-gate.ts).
  const gate = new SessionGate();
  const gated = {
    query: (...args: Parameters<typeof client.query>) => gate.run(() => client.query(...args)),
    exec: (...args: Parameters<typeof client.exec>) => gate.run(() => client.exec(...args)),
    transaction: <T>(fn: Parameters<typeof client.transaction<T>>[0]) => gate.run(() => client.transaction(fn)),
  };
  const db = drizzle({ client: gated as unknown as typeof client, schema }) as unknown as Db;
  let server: { stop(): Promise<void> } | null = null;
  if (ownership) {
    const { EmbeddedServer } = await import('./embedded/server.js');
    const s = new EmbeddedServer({ db: client, gate, path: ownership.record.socket });
    await s.start();
    server = s;
  }
  return {
    db,
    kind: 'pglite',
    describe: inMemory ? 'in-memory embedded database' : `embedded database in ${resolve(dataDir)}`,
    async hasVector() {
      return true;
    },
    async ping() {
      await gated.query('select 1');
    },
    dedicated() {
      return db;
    },
    async close() {
      // Clients first (their open transactions roll back), then the files, then the lock.
      await server?.stop();
      await client.close();
      ownership?.release();
    },
  };
}

