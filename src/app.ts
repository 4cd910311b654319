/**
 * The composition root, part two: the engine (commands, the ask pipeline, admission) and the
 * HTTP shell on top of the services from services.ts. main.ts adds the platform adapters; the
 * console, the tests and the bench build a Core the same way, with the same options.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from './config.js';
import { Engine } from './core/engine.js';
import { AskPipeline, type AnswerTimings } from './core/ask.js';
import { CommandHandlers } from './core/commands/handlers.js';
import { BottleneckAdmission } from './limits/limiter.js';
import { DEFAULT_PERSONA } from './personas/builtins.js';
import { HttpServer } from './http/server.js';
import { createServices, type ServiceOptions, type Services } from './services.js';
import type { Admission } from './ports/admission.js';
import { AnswerJobs } from './core/jobs/answer-jobs.js';
import { AckPressure } from './core/jobs/ack-pressure.js';
import { PostgresJobStore } from './delivery/job-store.js';
import { TokenSealer } from './security/sealing.js';
import { AnswerControlsService } from './core/answer-controls.js';
import type { AnswerControls } from './ports/controls.js';
import { RetentionSweep } from './governance/retention-sweep.js';

export interface Core extends Services {
  admission: Admission;
  engine: Engine;
  /** Answer jobs: adapters accept deliveries here and register how to rebuild their replies. */
  jobs: AnswerJobs;
  /** The buttons on answers (stop, feedback): adapters hand clicks over here. */
  controls: AnswerControls;
  http: HttpServer;
  /** Deletes what outlived its retention; main.ts starts it (tests run it on demand). */
  retention: RetentionSweep;
}

export interface CreateCoreOptions extends ServiceOptions {
  /** Called after every answer with its timings (benchmark). */
  onAnswered?: (t: AnswerTimings) => void;
  /** This instance's name as a lease owner (default: host, pid and a random suffix). */
  instanceId?: string;
}

export async function createCore(config: Config, opts: CreateCoreOptions = {}): Promise<Core> {
  const services = await createServices(config, opts);
  try {
    return await assemble(services, opts);
  } catch (err) {
    await services.close().catch(() => undefined);
    throw err;
  }
}

async function assemble(services: Services, opts: CreateCoreOptions): Promise<Core> {
  const { config, logger, metrics, database, backend, knowledge, tenants, channels, memory, personas, usage, audit, answers } = services;
  await personas.seedBuiltins();
  if (!knowledge) logger.warn({ reason: services.knowledgeUnavailable }, 'knowledge base off');

  // The limiter connects to Redis (REDIS_URL) on the first question, not here.
  const admission = new BottleneckAdmission({
    parallel: config.OLLAMA_PARALLEL,
    // The slots of the backends that can serve now: a backend cooling down takes its slots out of
    // the order, and one coming back puts them in.
    ...(services.slots ? { slots: services.slots } : {}),
    queueMax: config.QUEUE_MAX,
    queueWaitMs: config.QUEUE_WAIT_MS,
    // A tenant limiter must outlive any job that waits and runs in it (see limiter.ts).
    idleTimeoutMs: Math.max(15 * 60_000, config.QUEUE_WAIT_MS + config.OLLAMA_TIMEOUT_MS + 60_000),
    // Running answers get the shutdown grace to finish before the limiter lets go.
    closeTimeoutMs: config.SHUTDOWN_GRACE_MS,
    metrics,
    logger,
    ...(config.REDIS_URL ? { redis: { url: config.REDIS_URL } } : {}),
  });

  const commands = new CommandHandlers({
    tenants,
    channels,
    memory,
    personas,
    usage,
    audit,
    answers,
    admission,
    knowledge,
    knowledgeUnavailable: knowledge
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
    answers,
    metrics,
    logger,
    options: {
      chatModel: config.OLLAMA_CHAT_MODEL,
      defaultPersona: DEFAULT_PERSONA,
      memoryMessages: 20,
      memoryTokenBudget: 3000,
      quotaWaitMs: config.QUEUE_WAIT_MS,
    },
    onAnswered: opts.onAnswered,
  });
  const engine = new Engine({
    tenants,
    channels,
    memory,
    dedupe: services.dedupe,
    commands,
    ask,
    metrics,
    logger,
    maxQuestionChars: config.MAX_QUESTION_CHARS,
    logMessageText: config.LOG_MESSAGE_TEXT,
  });

  // Acks before answers: while accepts are slow, accepted answers wait in the database.
  const pressure = new AckPressure();
  // Credentials a reply needs later (a Discord interaction token) are sealed like installation tokens.
  const jobStore = new PostgresJobStore(
    database.db,
    config.ENCRYPTION_KEY ? TokenSealer.fromConfig(config.ENCRYPTION_KEY, config.ENCRYPTION_OLD_KEYS) : undefined,
    // Acks wait for this insert only: it gets connections no answer can hold.
    database.dedicated(3),
  );
  const jobs = new AnswerJobs({
    store: jobStore,
    tenants,
    handler: engine,
    memory,
    usage,
    logger,
    options: {
      instanceId: opts.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
      resumeMaxAgeS: config.RESUME_MAX_AGE_S,
      leaseMs: config.ANSWER_LEASE_MS,
      // Orphans are looked for often enough to be resumed soon after their lease runs out.
      sweepMs: Math.min(5_000, Math.ceil(config.ANSWER_LEASE_MS / 2)),
      maxQuestionChars: config.MAX_QUESTION_CHARS,
      pressure,
    },
  });

  const controls = new AnswerControlsService({ tenants, jobs: jobStore, stopper: jobs, answers, metrics, logger });

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
    metrics: () => metrics.exposition(),
    metricsToken: config.METRICS_TOKEN,
  });

  const retention = new RetentionSweep({ db: database.db, tenants, logger, metrics });

  return {
    ...services,
    admission,
    engine,
    jobs,
    controls,
    http,
    retention,
    async close() {
      await http.close();
      await retention.stop();
      // Whatever still runs hands its lease back (resumed by another instance or the next start).
      await jobs.drain(0);
      await admission.close();
      await services.close();
    },
  };
}
