/**
 * The composition root of the core: builds every service from the config and wires them by
 * constructor injection. main.ts adds the platform adapters; tests build a Core the same way.
 */
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { openDatabase, type Database } from './db/client.js';
import { migrate } from './db/migrate.js';
import { Metrics } from './metrics.js';
import { TenantRegistry } from './tenancy/registry.js';
import { ConversationMemory } from './memory/store.js';
import { PersonaStore } from './personas/store.js';
import { CachedChannelSettings } from './channels/settings.js';
import { UsageMeter } from './usage/meter.js';
import { Engine } from './core/engine.js';
import { AskPipeline, type AnswerTimings } from './core/ask.js';
import { CommandHandlers } from './core/commands/handlers.js';
import { BottleneckAdmission } from './limits/limiter.js';
import { OllamaBackend } from './llm/ollama-backend.js';
import { DEFAULT_PERSONA } from './personas/builtins.js';
import { createKnowledgeBase } from './retrieval/factory.js';
import { HttpServer } from './http/server.js';
import { AuditLog } from './audit/audit-log.js';
import { EventDeduper } from './delivery/dedupe.js';
import type { KnowledgeBase } from './ports/knowledge.js';
import type { LlmBackend } from './ports/llm.js';
import type { Admission } from './ports/admission.js';

export interface Core {
  config: Config;
  logger: Logger;
  database: Database;
  metrics: Metrics;
  tenants: TenantRegistry;
  memory: ConversationMemory;
  personas: PersonaStore;
  channels: CachedChannelSettings;
  usage: UsageMeter;
  audit: AuditLog;
  admission: Admission;
  backend: LlmBackend;
  knowledge?: KnowledgeBase;
  engine: Engine;
  http: HttpServer;
  close(): Promise<void>;
}

export interface CreateCoreOptions {
  logger?: Logger;
  /** An open database (tests); otherwise opened from the config and closed with the core. */
  database?: Database;
  backend?: LlmBackend;
  /** Called after every answer with its timings (benchmark). */
  onAnswered?: (t: AnswerTimings) => void;
  /** Adds process metrics (CPU, memory, event loop) to /metrics. */
  defaultMetrics?: boolean;
}

export async function createCore(config: Config, opts: CreateCoreOptions = {}): Promise<Core> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const ownsDatabase = !opts.database;
  const database = opts.database ?? (await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR }));
  if (ownsDatabase) {
    logger.info(
      database.kind === 'pglite'
        ? { dataDir: config.DATA_DIR }
        : { database: redactUrl(config.DATABASE_URL!) },
      database.kind === 'pglite'
        ? 'using embedded PostgreSQL (PGlite); set DATABASE_URL to use a PostgreSQL server'
        : 'using PostgreSQL server',
    );
    await migrate(database);
  }
  const db = database.db;
  const metrics = new Metrics({ defaultMetrics: opts.defaultMetrics });

  const ollama = new OllamaBackend({
    host: config.OLLAMA_HOST,
    stallMs: config.OLLAMA_STALL_MS,
    timeoutMs: config.OLLAMA_TIMEOUT_MS,
    metrics,
    logger,
  });
  const backend = opts.backend ?? ollama;
  const admission = new BottleneckAdmission({
    parallel: config.OLLAMA_PARALLEL,
    queueMax: config.QUEUE_MAX,
    queueWaitMs: config.QUEUE_WAIT_MS,
    // A tenant limiter must outlive any job that waits and runs in it (see limiter.ts).
    idleTimeoutMs: Math.max(15 * 60_000, config.QUEUE_WAIT_MS + config.OLLAMA_TIMEOUT_MS + 60_000),
    metrics,
    logger,
    ...(config.REDIS_URL ? { redis: { url: config.REDIS_URL } } : {}),
  });

  const tenants = new TenantRegistry(db, { defaultPlan: config.DEFAULT_PLAN });
  const memory = new ConversationMemory(db);
  const personas = new PersonaStore(db, (model) => ollama.hasModel(model));
  await personas.seedBuiltins();
  const channels = new CachedChannelSettings(db);
  const usage = new UsageMeter(db);
  const audit = new AuditLog(db);
  const kb = await createKnowledgeBase({ config, database, backend, logger });
  if (!kb.knowledge) logger.warn({ reason: kb.reason }, 'knowledge base off');
  const knowledge = kb.knowledge;

  const commands = new CommandHandlers({
    tenants,
    channels,
    memory,
    personas,
    usage,
    audit,
    admission,
    knowledge,
    knowledgeUnavailable: kb.knowledge
      ? undefined
      : 'The knowledge base is not set up on this deployment yet. Its operator can enable it (Qdrant or pgvector).',
  });
  const ask = new AskPipeline({
    memory,
    personas,
    usage,
    admission,
    backend,
    knowledge,
    metrics,
    logger,
    options: {
      chatModel: config.OLLAMA_CHAT_MODEL,
      defaultPersona: DEFAULT_PERSONA,
      memoryMessages: 20,
      memoryTokenBudget: 3000,
    },
    onAnswered: opts.onAnswered,
  });
  const engine = new Engine({
    tenants,
    channels,
    memory,
    dedupe: new EventDeduper(db),
    commands,
    ask,
    metrics,
    logger,
    logMessageText: config.LOG_MESSAGE_TEXT,
  });

  const http = new HttpServer(logger, {
    readiness: [
      { name: 'database', check: () => database.ping() },
      {
        name: 'ollama',
        check: async () => {
          const h = await backend.health();
          if (!h.ok) throw new Error(h.error ?? 'unreachable');
        },
      },
    ],
    metrics: async () => {
      const stats = admission.stats();
      metrics.queueDepth.reset();
      for (const [tenant, n] of stats.queuedByTenant) metrics.queueDepth.set({ tenant }, n);
      return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
    },
  });

  return {
    config,
    logger,
    database,
    metrics,
    tenants,
    memory,
    personas,
    channels,
    usage,
    audit,
    admission,
    backend,
    knowledge,
    engine,
    http,
    async close() {
      await http.close();
      await admission.close();
      if (ownsDatabase) await database.close();
    },
  };
}

function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparsable)';
  }
}
