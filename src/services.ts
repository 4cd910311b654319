/**
 * The composition root, part one: the database and the stores, the LLM backend, the knowledge
 * base and the metrics registry, built once from the config. The service, the console, the
 * operator CLI, the tests and the bench all get theirs from here (app.ts adds the engine on
 * top), so there is one place that decides what talks to what.
 *
 * What a caller injects (database, backend, logger, clock) is used everywhere; nothing builds a
 * second one beside it. Construction reaches only the database: Ollama, Qdrant and Redis are
 * first contacted when something uses them (main.ts runs the service's start-up checks).
 */
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { openDatabase, type Database } from './db/client.js';
import { migrate } from './db/migrate.js';
import { PrometheusMetrics } from './metrics.js';
import { TenantRegistry } from './tenancy/registry.js';
import { ConversationMemory } from './memory/store.js';
import { PersonaStore } from './personas/store.js';
import { CachedChannelSettings } from './channels/settings.js';
import { UsageMeter } from './usage/meter.js';
import { AuditLog } from './audit/audit-log.js';
import { PostgresAnswerBook } from './answers/answer-book.js';
import { EventDeduper } from './delivery/dedupe.js';
import { BackendPool } from './llm/pool/pool.js';
import { createKnowledgeBase } from './retrieval/factory.js';
import type { TenantKnowledgeBase } from './retrieval/knowledge-base.js';
import { databaseFailure } from './startup-errors.js';
import type { LlmBackend, SlotCapacity } from './ports/llm.js';

export interface Services {
  config: Config;
  logger: Logger;
  database: Database;
  /** The process's registry; each measuring module registers the metrics it owns on it. */
  metrics: PrometheusMetrics;
  backend: LlmBackend;
  /** The pool built from OLLAMA_HOST (its per-backend snapshot); undefined when a backend was injected. */
  pool?: BackendPool;
  /**
   * The slots of the backends that can serve now, for admission; undefined when an injected
   * backend offers none.
   */
  slots?: SlotCapacity;
  tenants: TenantRegistry;
  memory: ConversationMemory;
  personas: PersonaStore;
  channels: CachedChannelSettings;
  usage: UsageMeter;
  audit: AuditLog;
  /** Answers given and the feedback on them. */
  answers: PostgresAnswerBook;
  dedupe: EventDeduper;
  /** Undefined when no vector store is available; `knowledgeUnavailable` says why. */
  knowledge?: TenantKnowledgeBase;
  knowledgeUnavailable?: string;
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger?: Logger;
  /** An open, migrated database (tests); otherwise opened from the config, migrated, and closed with the services. */
  database?: Database;
  /** Used instead of the backend pool built from OLLAMA_HOST (its SlotCapacity is used when it has one). */
  backend?: LlmBackend;
  /** Wraps the backend every service uses (the bench records calls this way). */
  decorateBackend?: (backend: LlmBackend) => LlmBackend;
  /** The clock for usage days. */
  now?: () => Date;
  /** Adds process metrics (CPU, memory, event loop) to /metrics. */
  defaultMetrics?: boolean;
  /**
   * No caches in front of tenant reads: a short-lived tool (the operator CLI) must see what the
   * service wrote a moment ago.
   */
  freshReads?: boolean;
  /** Database pool size (a tool needs few connections). */
  maxConnections?: number;
}

export async function createServices(config: Config, opts: ServiceOptions = {}): Promise<Services> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const ownsDatabase = !opts.database;
  const database = opts.database ?? (await openServiceDatabase(config, logger, opts.maxConnections));
  try {
    const db = database.db;
    const metrics = new PrometheusMetrics({ defaultMetrics: opts.defaultMetrics });
    // One pool over every configured backend (with one host, a pool of one).
    const pool = opts.backend ? undefined : createBackendPool(config, { metrics, logger });
    const configured = opts.backend ?? pool!;
    const slots = pool ?? (isSlotCapacity(opts.backend) ? opts.backend : undefined);
    const backend = opts.decorateBackend ? opts.decorateBackend(configured) : configured;
    const kb = await createKnowledgeBase({ config, database, backend, logger });
    const services: Services = {
      config,
      logger,
      database,
      metrics,
      backend,
      ...(pool ? { pool } : {}),
      ...(slots ? { slots } : {}),
      tenants: new TenantRegistry(db, { defaultPlan: config.DEFAULT_PLAN, ...(opts.freshReads ? { cacheTtlMs: 0 } : {}) }),
      memory: new ConversationMemory(db),
      // Persona models are checked on the backend that answers, injected or not.
      personas: new PersonaStore(db, (model) => backend.hasModel(model)),
      channels: new CachedChannelSettings(db),
      usage: new UsageMeter(db, opts.now),
      audit: new AuditLog(db),
      answers: new PostgresAnswerBook(db),
      dedupe: new EventDeduper(db),
      ...(kb.knowledge ? { knowledge: kb.knowledge } : { knowledgeUnavailable: kb.reason }),
      async close() {
        pool?.close();
        if (ownsDatabase) await database.close();
      },
    };
    return services;
  } catch (err) {
    if (ownsDatabase) await database.close().catch(() => undefined);
    throw err;
  }
}

/** The pool over OLLAMA_HOST's backends, with the load-time options pinned for every call. */
export function createBackendPool(config: Config, o: { metrics?: PrometheusMetrics; logger?: Logger } = {}): BackendPool {
  return new BackendPool({
    backends: config.OLLAMA_BACKENDS,
    stallMs: config.OLLAMA_STALL_MS,
    timeoutMs: config.OLLAMA_TIMEOUT_MS,
    waitMs: config.QUEUE_WAIT_MS,
    models: [config.OLLAMA_CHAT_MODEL, config.OLLAMA_EMBED_MODEL],
    pinned: { numCtx: config.OLLAMA_NUM_CTX, keepAlive: config.OLLAMA_KEEP_ALIVE },
    ...o,
  });
}

function isSlotCapacity(b: unknown): b is SlotCapacity {
  const c = b as Partial<SlotCapacity> | undefined;
  return typeof c?.capacity === 'function' && typeof c.onCapacityChange === 'function';
}

/** Opens the configured database and migrates it; a failure is one StartupError line. */
async function openServiceDatabase(config: Config, logger: Logger, maxConnections?: number): Promise<Database> {
  const where = { url: config.DATABASE_URL, dataDir: config.DATA_DIR };
  let database: Database;
  try {
    database = await openDatabase({ ...where, ...(maxConnections ? { maxConnections } : {}) });
  } catch (err) {
    throw databaseFailure(err, where);
  }
  try {
    await migrate(database);
  } catch (err) {
    await database.close().catch(() => undefined);
    throw databaseFailure(err, where);
  }
  logger.info(
    { database: database.describe },
    where.url ? `using ${database.describe}` : `using the ${database.describe} (PGlite); set DATABASE_URL to use a PostgreSQL server`,
  );
  return database;
}
