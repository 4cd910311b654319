/**
 * `npm start`: the service. Builds the core through the composition root, starts the platform
 * adapters that are configured, listens, and runs the start-up checks. Any start-up failure is
 * one line on stderr naming the setting or dependency and what to do, then a non-zero exit.
 */
import { ConfigError, loadConfig, readEnvironment, type Config } from './config.js';
import { createCore, type Core } from './app.js';
import { createLogger, type Logger } from './logger.js';
import { prepareKnowledgeBase } from './retrieval/factory.js';
import { DimensionMismatchError } from './retrieval/vector-store.js';
import type { BackendHealth } from './ports/llm.js';
import { redactUrl } from './config-fields.js';
import { discordFailure, firstLine, listenFailure, slackFailure, StartupError } from './startup-errors.js';

interface Stoppable {
  close(): Promise<void>;
}

async function startAdapters(core: Core, config: Config, started: Stoppable[]): Promise<void> {
  if (config.SLACK_SIGNING_SECRET) {
    const { startSlack } = await import('../adapters/slack/index.js');
    started.push(await startSlack(core).catch((err: unknown) => Promise.reject(slackFailure(err))));
    core.logger.info('Slack adapter on: POST /slack/events, GET /slack/install');
  } else {
    core.logger.info('Slack adapter off (set SLACK_SIGNING_SECRET, SLACK_CLIENT_ID, SLACK_CLIENT_SECRET to turn it on)');
  }
  if (config.DISCORD_TOKEN) {
    const { startDiscord } = await import('../adapters/discord/index.js');
    started.push(await startDiscord(core).catch((err: unknown) => Promise.reject(discordFailure(err, config.DISCORD_API_URL))));
    core.logger.info('Discord adapter on');
  } else {
    core.logger.info('Discord adapter off (set DISCORD_TOKEN and DISCORD_APPLICATION_ID to turn it on)');
  }
}

/** Ollama and its models: a warning, never a stop (questions get a clear reply until it is up). */
async function reportBackend(core: Core, config: Config, health: BackendHealth): Promise<void> {
  const wanted = [config.OLLAMA_CHAT_MODEL, config.OLLAMA_EMBED_MODEL];
  const lacks = (models: string[] | undefined) => wanted.filter((m) => !models?.includes(m) && !models?.includes(`${m}:latest`));
  if (core.pool) {
    // One line per backend of the pool.
    for (const b of core.pool.snapshot()) {
      if (b.state !== 'up') {
        core.logger.warn({ backend: b.url, error: b.reason }, `Ollama backend ${b.url} is not reachable: the others serve meanwhile; it is probed again in the background`);
      } else if (lacks(b.models).length > 0) {
        core.logger.warn({ backend: b.url, missing: lacks(b.models) }, `Ollama backend ${b.url} lacks ${lacks(b.models).join(', ')}: calls for them go to other backends`);
      } else {
        core.logger.info({ backend: b.url, models: wanted, slots: b.slots }, `Ollama backend ${b.url} is reachable and has the models`);
      }
    }
  }
  const reachable = health.ok || health.models.length > 0;
  if (!reachable) {
    core.logger.warn(
      { ollama: config.OLLAMA_HOST, error: health.error },
      `Ollama is not reachable at ${redactUrl(config.OLLAMA_HOST)}: questions will get a "can't reach the language model" reply until it is up (start Ollama, or npm run fake-ollama for a first try)`,
    );
    return;
  }
  const missing = core.pool ? wanted.filter((m) => core.pool!.snapshot().some((b) => b.state === 'up' && lacks(b.models).includes(m))) : lacks(health.models);
  if (missing.length === 0) {
    core.logger.info({ ollama: config.OLLAMA_HOST, models: wanted }, 'Ollama is reachable and has the models');
  } else if (config.OLLAMA_PULL) {
    core.logger.info({ missing }, 'pulling missing models');
    await core.backend.ensureModels(missing, (line) => core.logger.info(line));
  } else {
    core.logger.warn({ missing }, 'Ollama lacks these models: pull them (ollama pull NAME) or set OLLAMA_PULL=true');
  }
}

async function listen(core: Core, port: number): Promise<number> {
  try {
    return await core.http.listen(port);
  } catch (err) {
    throw listenFailure(err, port);
  }
}

async function start(config: Config, logger: Logger): Promise<void> {
  const core = await createCore(config, { logger, defaultMetrics: true });
  const adapters: Stoppable[] = [];
  let health: BackendHealth;
  const closeAll = async () => {
    for (const a of adapters) await a.close().catch((err) => logger.error({ err }, 'adapter close failed'));
    await core.close().catch((err) => logger.error({ err }, 'close failed'));
  };
  try {
    health = await core.backend.health();
    // A knowledge store built for another embedding model must stop start-up (wrong answers
    // otherwise). With Ollama down the store is made ready on first use instead.
    if (health.ok || health.models.length > 0) {
      await prepareKnowledgeBase(core.knowledge, logger).catch((err: unknown) => {
        throw err instanceof DimensionMismatchError ? new StartupError(firstLine(err), { cause: err }) : err;
      });
    }
    await startAdapters(core, config, adapters);
    const port = await listen(core, config.PORT);
    // Interrupted answers (this instance's before a restart, or a dead instance's) are resumed.
    core.jobs.start();
    // Conversations, finished questions, usage and audit rows past their retention are deleted in the background.
    core.retention.start();
    logger.info({ port, publicUrl: config.PUBLIC_URL, defaultPlan: config.DEFAULT_PLAN }, `listening on :${port} (/healthz, /readyz, /metrics)`);
  } catch (err) {
    await closeAll();
    throw err;
  }
  void reportBackend(core, config, health).catch((err) => logger.error({ err }, 'backend check failed'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Drain: not ready any more, no new answers or claims (deliveries are still stored, for
    // another instance or the next start); running answers get the grace period, the rest hand
    // their lease back; adapters, the limiter and the database close after that, the database last.
    core.http.drain();
    logger.info({ signal, graceMs: config.SHUTDOWN_GRACE_MS, running: core.jobs.active }, 'shutting down');
    await core.jobs.drain(config.SHUTDOWN_GRACE_MS).catch((err) => logger.error({ err }, 'drain failed'));
    await closeAll();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(readEnvironment());
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.LOG_LEVEL, { pretty: 'auto' });
  try {
    await start(config, logger);
  } catch (err) {
    // One line, for whoever started it; the stack only when asked for (LOG_LEVEL=debug).
    logger.debug({ err }, 'start-up failed');
    const line = err instanceof StartupError ? err.message : `start-up failed: ${firstLine(err)} (LOG_LEVEL=debug shows the details)`;
    process.stderr.write(`${line}\n`);
    process.exit(1);
  }
}

await main();
