/**
 * Writes that must survive a short database outage: once an answer is out, its memory and usage
 * rows (and its job's final state) are retried through a restart of the database instead of
 * being lost. Bounded, so a broken write still ends.
 */
import type { Logger } from '../logger.js';
import { BotError } from '../ports/errors.js';

export interface PersistOptions {
  /** @defaultValue 30 */
  attempts?: number;
  /** Wait between attempts, doubling up to 5 s. @defaultValue 250 */
  delayMs?: number;
  logger?: Logger;
  /** For the log line when a write needs another try. */
  what: string;
}

export async function persistently<T>(write: () => Promise<T>, o: PersistOptions): Promise<T> {
  const attempts = o.attempts ?? 30;
  let delay = o.delayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      // A refusal is an answer, not an outage; the last attempt gives up.
      if (err instanceof BotError || attempt >= attempts) throw err;
      if (attempt === 1) o.logger?.warn({ err, what: o.what }, 'write failed; retrying until the database is back');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(5_000, delay * 2);
    }
  }
}
