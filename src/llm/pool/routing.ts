/**
 * Which backend gets the next call: a pure choice over the pool's members, so it can be read
 * (and tested) apart from the waiting and the failover around it.
 *
 * Eligible: up, may have the model (listed it, or its list is not known yet), a free slot, not
 * marked busy by a recent 503, not already failed for this call. Among those: the backend that
 * served the conversation before (affinity: Ollama keeps the prompt cache per runner) when it is
 * eligible, else the least loaded (in flight against its slots), then the fastest (measured
 * tokens per second; a backend not measured yet counts as the fastest, so it gets measured), then
 * the one with fewer calls so far (spreads ties instead of piling onto the first).
 */
import type { PoolMember } from './member.js';

export interface RouteRequest {
  model: string;
  /** The backend that served this conversation last, if any. */
  preferred?: PoolMember;
  /** Backends that already failed this call before its first token. */
  exclude: ReadonlySet<PoolMember>;
  now: number;
}

export function eligible(m: PoolMember, r: RouteRequest): boolean {
  return m.usable && !r.exclude.has(m) && m.mayHave(r.model) && m.free(r.now);
}

export function choose(members: readonly PoolMember[], r: RouteRequest): PoolMember | undefined {
  if (r.preferred && members.includes(r.preferred) && eligible(r.preferred, r)) return r.preferred;
  const fastest = Math.max(0, ...members.map((m) => m.tokensPerSecond ?? 0));
  let best: PoolMember | undefined;
  for (const m of members) {
    if (!eligible(m, r)) continue;
    if (!best || better(m, best, fastest)) best = m;
  }
  return best;
}

function better(a: PoolMember, b: PoolMember, fastest: number): boolean {
  const la = a.inUse / a.slots;
  const lb = b.inUse / b.slots;
  if (la !== lb) return la < lb;
  const sa = a.tokensPerSecond ?? fastest + 1;
  const sb = b.tokensPerSecond ?? fastest + 1;
  if (sa !== sb) return sa > sb;
  return a.calls < b.calls;
}

/**
 * Could any backend serve `model` at all, now or once a slot frees or a backoff ends? False when
 * every backend that may have it is excluded for this call or none may have it: waiting is then
 * pointless.
 */
export function servable(members: readonly PoolMember[], model: string, exclude: ReadonlySet<PoolMember>): boolean {
  return members.some((m) => !exclude.has(m) && m.mayHave(model));
}
