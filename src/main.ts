/**
 * `npm start`: the service. The one place that wires the core to the platform adapters that
 * are configured.
 */
import { ConfigError, loadConfig, type Config } from './config.js';
import { createCore, type Core } from './app.js';
import { createLogger } from './logger.js';

interface Stoppable {
  close(): Promise<void>;
}

async function startAdapters(core: Core, config: Config): Promise<Stoppable[]> {
  const started: Stoppable[] = [];
  if (config.SLACK_SIGNING_SECRET) {
    const { startSlack } = await import('../adapters/slack/index.js');
    started.push(await startSlack(core));
    core.logger.info('Slack adapter on: POST /slack/events, GET /slack/install');
  } else {
    core.logger.info('Slack adapter off (set SLACK_SIGNING_SECRET, SLACK_CLIENT_ID, SLACK_CLIENT_SECRET to turn it on)');
  }
  if (config.DISCORD_TOKEN) {
    const { startDiscord } = await import('../adapters/discord/index.js');
    started.push(await startDiscord(core));
    core.logger.info('Discord adapter on');
  } else {
    core.logger.info('Discord adapter off (set DISCORD_TOKEN and DISCORD_APPLICATION_ID to turn it on)');
  }
  return started;
}

async function checkBackend(core: Core, config: Config): Promise<void> {
  const health = await core.backend.health();
  if (!health.ok) {
    core.logger.warn(
      { ollama: config.OLLAMA_HOST, error: health.error },
      `Ollama is not reachable at ${config.OLLAMA_HOST}: questions will get a "can't reach the language model" reply until it is up`,
    );
    return;
  }
  const wanted = [config.OLLAMA_CHAT_MODEL, config.OLLAMA_EMBED_MODEL];
  const missing = wanted.filter((m) => !health.models.includes(m) && !health.models.includes(`${m}:latest`));
  if (missing.length === 0) {
    core.logger.info({ ollama: config.OLLAMA_HOST, models: wanted }, 'Ollama is reachable and has the models');
  } else if (config.OLLAMA_PULL) {
    core.logger.info({ missing }, 'pulling missing models');
    await core.backend.ensureModels(missing, (line) => core.logger.info(line));
  } else {
    core.logger.warn({ missing }, 'Ollama lacks these models: pull them (ollama pull NAME) or set OLLAMA_PULL=true');
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const core = await createCore(config, { logger, defaultMetrics: true });
  const adapters = await startAdapters(core, config);
  const port = await core.http.listen(config.PORT);
  logger.info({ port, publicUrl: config.PUBLIC_URL }, `listening on :${port} (/healthz, /readyz, /metrics)`);
  void checkBackend(core, config).catch((err) => logger.error({ err }, 'backend check failed'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    for (const a of adapters) await a.close().catch((err) => logger.error({ err }, 'adapter close failed'));
    await core.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
