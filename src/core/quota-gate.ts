/**
 * A question's hold on its tenant's daily token quota. Reserved before it waits for a slot;
 * when answers under way hold what is left of the quota, it waits for them to end (they may use
 * less than they hold) rather than being refused while the quota is not spent.
 */
import type { QuotaReservation, UsageLedger } from '../ports/stores.js';
import type { TenantScope } from '../ports/tenancy.js';

export interface QuotaGateOptions {
  /** Longest wait for other answers to release their hold, in ms. */
  maxWaitMs: number;
  /** First pause between tries (it doubles up to 1 s). */
  firstPauseMs?: number;
}

/** The reservation, or 'spent' when the quota is used up (or still held by others after the wait). */
export async function reserveQuota(
  usage: UsageLedger,
  scope: TenantScope,
  tokens: number,
  limit: number,
  options: QuotaGateOptions & { signal?: AbortSignal; onHeld?: () => void },
): Promise<QuotaReservation | 'spent'> {
  const deadline = Date.now() + options.maxWaitMs;
  let pause = options.firstPauseMs ?? 100;
  let told = false;
  for (;;) {
    const got = await usage.reserve(scope, tokens, limit);
    if (got !== 'held') return got;
    if (Date.now() + pause > deadline || options.signal?.aborted) return 'spent';
    if (!told) options.onHeld?.();
    told = true;
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(1_000, pause * 2);
  }
}
