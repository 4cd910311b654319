/**
 * Bolt's and the Slack SDK's Logger interface on top of the service's pino logger. Their debug
 * output carries request bodies (message text), so it is dropped unless message-text logging is
 * on; anything shaped like a Slack token is masked on every level as a second line of defence.
 */
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../../src/logger.js';

const TOKEN = /xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+/g;

function render(parts: unknown[]): string {
  return parts
    .map((p) => (p instanceof Error ? `${p.name}: ${p.message}` : typeof p === 'string' ? p : safeJson(p)))
    .join(' ')
    .replace(TOKEN, '[token]');
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

export function boltLogger(logger: Logger, opts: { debug?: boolean } = {}): SlackLogger {
  let level: LogLevel = opts.debug ? LogLevel.DEBUG : LogLevel.INFO;
  const child = logger.child({ component: 'slack' });
  return {
    debug: (...m: unknown[]) => {
      if (level === LogLevel.DEBUG) child.debug(render(m));
    },
    info: (...m: unknown[]) => child.info(render(m)),
    warn: (...m: unknown[]) => child.warn(render(m)),
    error: (...m: unknown[]) => child.error(render(m)),
    setLevel: (l: LogLevel) => {
      // Debug stays off unless the operator allowed message text in logs.
      level = l === LogLevel.DEBUG && !opts.debug ? LogLevel.INFO : l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
