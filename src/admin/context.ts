/**
 * Opens what the operator CLI works on: the service's own database (DATABASE_URL, or the
 * embedded PGlite under DATA_DIR), migrated exactly as the service migrates it on start, and
 * the same stores the service uses. The knowledge base is opened only when a command asks for
 * it, because it reaches Ollama (and Qdrant).
 */
import type { Config } from '../config.js';
import { openDatabase, type Database } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import type { Logger } from '../logger.js';
import { OllamaBackend } from '../llm/ollama-backend.js';
import { createKnowledgeBase } from '../retrieval/factory.js';
import { TenantRegistry } from '../tenancy/registry.js';
import { UsageMeter } from '../usage/meter.js';
import type { AdminDeps, KnowledgeAccess } from './commands.js';
import { AuditLog } from '../audit/audit-log.js';

export interface AdminContext {
  deps: AdminDeps;
  database: Database;
  close(): Promise<void>;
}

/** Builds the deps over an open database (tests pass their own; the CLI passes its own). */
export function adminDeps(database: Database, config: Config, logger: Logger): AdminDeps {
  let knowledge: Promise<KnowledgeAccess> | undefined;
  return {
    db: database.db,
    // No cache: the CLI is short-lived and must see what the service wrote a moment ago.
    tenants: new TenantRegistry(database.db, { defaultPlan: config.DEFAULT_PLAN, cacheTtlMs: 1 }),
    usage: new UsageMeter(database.db),
    audit: new AuditLog(database.db),
    knowledge: () =>
      (knowledge ??= (async (): Promise<KnowledgeAccess> => {
        const backend = new OllamaBackend({
          host: config.OLLAMA_HOST,
          stallMs: config.OLLAMA_STALL_MS,
          timeoutMs: config.OLLAMA_TIMEOUT_MS,
          logger,
        });
        const setup = await createKnowledgeBase({ config, database, backend, logger });
        return setup.knowledge ? { knowledge: setup.knowledge } : { knowledge: undefined, reason: setup.reason };
      })()),
  };
}

export async function openAdminContext(config: Config, logger: Logger): Promise<AdminContext> {
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, maxConnections: 2 });
  try {
    await migrate(database);
  } catch (err) {
    await database.close();
    throw err;
  }
  return { deps: adminDeps(database, config, logger), database, close: () => database.close() };
}
