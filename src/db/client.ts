/**
 * Opens the database: postgres.js on a real server when a URL is given, embedded PGlite
 * (with pgvector) under a data folder otherwise. Both yield the same drizzle API.
 */
import { mkdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  /** 'postgres' for a server, 'pglite' for the embedded database. */
  kind: 'postgres' | 'pglite';
  /** True when the pgvector extension can be used in this database. */
  hasVector(): Promise<boolean>;
  ping(): Promise<void>;
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

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.url) return openPostgres(opts.url, opts.maxConnections ?? 10);
  return openPglite(opts.dataDir ?? './data');
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const client = postgres(url, { max, onnotice: () => {} });
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    async hasVector() {
      const rows = await client`select 1 from pg_available_extensions where name = 'vector'`;
      return rows.length > 0;
    },
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const { drizzle } = await import('drizzle-orm/pglite');
  const inMemory = dataDir.startsWith('memory://');
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  // 'memory://' (not undefined): with an undefined first argument PGlite ignores the options
  // argument, and so the vector extension.
  const client = new PGlite(inMemory ? 'memory://' : `${dataDir.replace(/\/$/, '')}/pg`, { extensions: { vector } });
  await client.waitReady;
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    async hasVector() {
      return true;
    },
    async ping() {
      await client.query('select 1');
    },
    async close() {
      await client.close();
    },
  };
}
