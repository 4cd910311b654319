/**
 * What an operator command test runs on: a fresh test database, the fake Ollama and the fake
 * Qdrant (so the knowledge base works on any Postgres), and the CLI's own dependencies built
 * over them by the composition root.
 */
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openAdminContext } from '../../src/admin/context.js';
import type { AdminDeps } from '../../src/admin/commands.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { startFakeOllama, type FakeOllama } from '../fakes/ollama.js';
import { startFakeQdrant, type FakeQdrant } from '../fakes/qdrant.js';

export interface AdminWorld {
  t: TestDatabase;
  ollama: FakeOllama;
  qdrant: FakeQdrant;
  deps: AdminDeps;
  close(): Promise<void>;
}

export async function openAdminWorld(): Promise<AdminWorld> {
  const [t, ollama, qdrant] = await Promise.all([createTestDatabase(), startFakeOllama(), startFakeQdrant()]);
  const config = loadConfig({ QDRANT_URL: qdrant.url, OLLAMA_HOST: ollama.url, LOG_LEVEL: 'silent' });
  const { deps } = await openAdminContext(config, { logger: createLogger('silent'), database: t.database });
  return { t, ollama, qdrant, deps, close: async () => void (await Promise.all([t.drop(), ollama.close(), qdrant.close()])) };
}

/** The CLI's I/O, kept: what it printed on stdout and stderr. */
export function captureIo() {
  const io = { stdout: [] as string[], stderr: [] as string[], out: (x: string) => io.stdout.push(x), err: (x: string) => io.stderr.push(x), progress: process.stderr };
  return io;
}
