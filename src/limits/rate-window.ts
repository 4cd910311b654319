/**
 * When a tenant's requests-per-minute budget (Bottleneck's reservoir) next refills. Bottleneck has
 * no public API for it, so this reads the time of the last refill where its datastore keeps it
 * (in process, or the limiter's settings hash in Redis) and falls back to a whole window.
 */
import type Bottleneck from 'bottleneck';

interface LocalStore {
  _lastReservoirRefresh?: number;
}
interface RedisStore {
  originalId?: string;
  clients?: { client?: { hget(key: string, field: string): Promise<string | null> } };
}

export interface RateWindow {
  /** Requests left in the current window (null: no budget applies). */
  left: number | null;
  /** Milliseconds until the budget refills. */
  refillInMs: number;
}

export async function rateWindow(limiter: Bottleneck, windowMs: number, now: () => number = Date.now): Promise<RateWindow> {
  const left = await limiter.currentReservoir();
  if (left === null || left > 0) return { left, refillInMs: 0 };
  const last = await lastRefill(limiter).catch(() => undefined);
  const refillInMs = last === undefined ? windowMs : Math.min(windowMs, Math.max(0, last + windowMs - now()));
  return { left, refillInMs };
}

async function lastRefill(limiter: Bottleneck): Promise<number | undefined> {
  const store = (limiter as unknown as { _store?: LocalStore & RedisStore })._store;
  if (!store) return undefined;
  if (typeof store._lastReservoirRefresh === 'number') return store._lastReservoirRefresh;
  const client = store.clients?.client;
  if (!client || !store.originalId) return undefined;
  const raw = await client.hget(`b_${store.originalId}_settings`, 'lastReservoirRefresh');
  const value = raw === null ? NaN : Number(raw);
  return Number.isFinite(value) ? value : undefined;
}
