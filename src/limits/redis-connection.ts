/**
 * The one Redis connection shared by every Bottleneck limiter of an Admission (the tenant Group
 * and the global limiter), with a fix for Bottleneck 2.19.5 on Redis 7.
 *
 * Why the fix: Bottleneck's Lua scripts signal recoverable states with
 * `redis.error_reply('SETTINGS_KEY_NOT_FOUND')` / `'UNKNOWN_CLIENT'`, and its RedisDatastore
 * recovers (re-runs `init` / `register_client`, then retries) only when the error message is
 * exactly that word. Redis 7 prefixes error replies that carry no error code with "ERR ", so
 * the message becomes "ERR SETTINGS_KEY_NOT_FOUND", the comparison fails and the job is dropped
 * with a ReplyError (SGrondin/bottleneck#205, #212, #219; unmerged PR #215). That happens
 * whenever a limiter's keys expired while the limiter object still lives (idle expiry via the
 * Group `timeout`, or a process paused past `clientTimeout`). We strip the prefix from those
 * few script errors before Bottleneck sees them, so its own recovery path runs again.
 */
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

type ScriptCallback = (err: Error | null, replies: unknown) => void;

/** Bottleneck's internal hook that builds the arguments (and callback) of every script call. */
interface ScriptArgsHook {
  __scriptArgs__(name: string, id: string, args: unknown[], cb: ScriptCallback): unknown[];
}

/** Error words Bottleneck's scripts raise and Bottleneck itself knows how to handle. */
const recoverable = /^ERR ((?:SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT)$|OVERWEIGHT:)/;

/** Removes the "ERR " that Redis 7 puts in front of Bottleneck's own script errors. */
export function normalizeScriptError(err: Error | null): Error | null {
  if (err && recoverable.test(err.message)) err.message = err.message.slice('ERR '.length);
  return err;
}

/** Installs the Redis 7 fix on a Bottleneck ioredis connection; `onRewrite` hears each rewritten error. */
export function patchRedis7Errors(connection: Bottleneck.IORedisConnection, onRewrite?: (message: string) => void): void {
  const hook = connection as unknown as ScriptArgsHook;
  const original = hook.__scriptArgs__.bind(connection);
  hook.__scriptArgs__ = (name, id, args, cb) =>
    original(name, id, args, (err, replies) => {
      const before = err?.message;
      const fixed = normalizeScriptError(err);
      if (fixed && before !== fixed.message) onRewrite?.(fixed.message);
      cb(fixed, replies);
    });
}

export interface SharedRedisConnection {
  connection: Bottleneck.IORedisConnection;
  /** Script errors rewritten so Bottleneck could recover (observable for tests and logs). */
  readonly recovered: () => number;
  close(): Promise<void>;
}

/** Opens the shared connection (one command client + one subscriber) for all limiters. */
export function openSharedRedisConnection(url: string, logger?: Logger): SharedRedisConnection {
  const client = new Redis(url, { lazyConnect: false });
  const connection = new Bottleneck.IORedisConnection({ Redis, client });
  let recovered = 0;
  patchRedis7Errors(connection, (word) => {
    recovered += 1;
    logger?.debug({ word }, 'bottleneck state expired in redis; re-registering');
  });
  // ioredis reports every reconnect attempt; the limiter keeps retrying by itself.
  connection.on('error', (error: unknown) => logger?.warn({ err: error }, 'limiter redis connection error'));
  let closing: Promise<void> | undefined;
  return {
    connection,
    recovered: () => recovered,
    close: () => (closing ??= connection.disconnect(true).catch(() => undefined)),
  };
}
