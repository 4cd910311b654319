/**
 * A fresh, migrated database per test file: a new database on the real Postgres named by
 * TEST_DATABASE_URL (else DATABASE_URL), or an in-memory PGlite when neither is set.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';

export interface TestDatabase {
  database: Database;
  /** A URL another process can open (undefined on PGlite). */
  url?: string;
  drop(): Promise<void>;
}

export function testDatabaseUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

export async function createTestDatabase(opts: { maxConnections?: number } = {}): Promise<TestDatabase> {
  const base = testDatabaseUrl();
  if (!base) {
    const database = await openDatabase({ dataDir: 'memory://' });
    await migrate(database);
    return { database, drop: () => database.close() };
  }
  const name = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), maxConnections: opts.maxConnections ?? 5 });
  await migrate(database);
  return {
    database,
    url: url.toString(),
    async drop() {
      await database.close();
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/**
 * A test database with the pgvector extension: the server's when it has pgvector, else an
 * in-memory PGlite (which always has it).
 */
export async function createVectorTestDatabase(): Promise<TestDatabase> {
  const d = await createTestDatabase();
  if (await d.database.hasVector()) return d;
  await d.drop();
  const database = await openDatabase({ dataDir: 'memory://' });
  await migrate(database);
  return { database, drop: () => database.close() };
}
