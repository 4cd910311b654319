/**
 * The Bottleneck objects behind a BottleneckAdmission: one global limiter sized to the backend's
 * slots and a Group of per-tenant limiters, in process or shared through Redis. Built on the
 * admission's first job, so constructing an admission never reaches Redis.
 */
import Bottleneck from 'bottleneck';
import type { Logger } from '../logger.js';
import { openSharedRedisConnection, type SharedRedisConnection } from './redis-connection.js';
import { yieldWithoutTimers } from './bottleneck-timers.js';

export interface Limiters {
  group: Bottleneck.Group;
  global: Bottleneck;
  /** Settles when the global settings reached the datastore. */
  globalReady: Promise<void>;
  redis?: SharedRedisConnection;
}

export interface LimiterSettings {
  parallel: number;
  queueMax: number;
  logger?: Logger;
  redis?: { url: string };
  id?: string;
  idleTimeoutMs?: number;
}

export function buildLimiters(opts: LimiterSettings): Limiters {
  const prefix = opts.id ?? 'tenantbot';
  const store: Bottleneck.ConstructorOptions = {};
  const redis = opts.redis ? openSharedRedisConnection(opts.redis.url, opts.logger) : undefined;
  if (redis) Object.assign(store, { datastore: 'ioredis', connection: redis.connection, clearDatastore: false });
  const global = new Bottleneck({
    ...store,
    id: `${prefix}:global`,
    maxConcurrent: opts.parallel,
    highWater: opts.queueMax,
    strategy: Bottleneck.strategy.OVERFLOW,
  });
  global.on('error', (error) => opts.logger?.warn({ err: error }, 'global limiter error'));
  if (!redis) yieldWithoutTimers(global);
  // With Redis the settings key may predate this process (init never overwrites it), so
  // push ours: the operator may have changed OLLAMA_PARALLEL / QUEUE_MAX since.
  const globalReady = redis
    ? settle(global.updateSettings({ maxConcurrent: opts.parallel, highWater: opts.queueMax }), opts.logger)
    : Promise.resolve();
  const group = new Bottleneck.Group({ ...store, id: `${prefix}:tenant`, timeout: opts.idleTimeoutMs ?? 15 * 60_000 });
  group.on('created', (limiter: Bottleneck, tenantId: string) => {
    limiter.on('error', (error) => opts.logger?.warn({ err: error, tenantId }, 'tenant limiter error'));
    if (!redis) yieldWithoutTimers(limiter);
  });
  return { group, global, globalReady, redis };
}

/**
 * Bottleneck's `updateSettings` returns a promise (its typings say otherwise). A failed update
 * is logged and the limiter keeps its previous settings rather than failing every job.
 */
export function settle(update: unknown, logger?: Logger): Promise<void> {
  return Promise.resolve(update).then(
    () => undefined,
    (error: unknown) => logger?.warn({ err: error }, 'limiter settings update failed'),
  );
}
