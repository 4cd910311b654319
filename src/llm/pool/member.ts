/**
 * One backend of the pool and what the pool knows about it: its slots and how many are in use,
 * the models it has (from /api/tags), its health (up, or cooling down after a failure with an
 * exponential backoff, or down once the backoff is at its longest), whether it said "busy" (503)
 * recently, and its measured speed. Pure state: the pool decides, this records.
 */
import { redactUrl } from '../../config-fields.js';
import type { LlmErrorKind } from '../../ports/llm.js';
import { normalizeModelName, type OllamaBackend } from '../ollama-backend.js';

export type MemberState = 'up' | 'cooling' | 'down';

export interface CooldownPolicy {
  /** First cooldown after a failure (default 1 s). */
  minMs: number;
  /** Longest cooldown (default 30 s); a backend that keeps failing at this length is "down". */
  maxMs: number;
}

/** One backend as `snapshot()` shows it (admin CLI, tests). */
export interface BackendSnapshot {
  /** The URL without credentials (also the `backend` metric label). */
  url: string;
  state: MemberState;
  /** Why it is not up (the last failure). */
  reason?: string;
  /** When it entered this state (ISO time). */
  since: string;
  /** Models it has; undefined until the first probe answered. */
  models?: string[];
  slots: number;
  inUse: number;
  /** Generated tokens per second (moving average), undefined until measured. */
  tokensPerSecond?: number;
  calls: number;
  errors: Partial<Record<LlmErrorKind, number>>;
  /** While it answers 503 "busy": the pool sends it nothing until then (ISO time). */
  busyUntil?: string;
}

/** Weight of the newest measurement in the speed average. */
const SPEED_ALPHA = 0.3;

export class PoolMember {
  readonly label: string;
  inUse = 0;
  state: MemberState = 'up';
  reason?: string;
  since = Date.now();
  /** Known models (normalized); undefined until the first successful probe. */
  models?: Set<string>;
  version?: string;
  tokensPerSecond?: number;
  calls = 0;
  readonly errors: Partial<Record<LlmErrorKind, number>> = {};
  /** performance.now() before which the pool does not send it work (after a 503). */
  busyUntil = 0;
  private busyStreak = 0;
  /** Current cooldown length; 0 while up. */
  cooldownMs = 0;
  /** performance.now() at which a cooling backend is probed again. */
  retryAt = 0;

  constructor(
    readonly backend: OllamaBackend,
    readonly url: string,
    readonly slots: number,
    private readonly policy: CooldownPolicy,
  ) {
    this.label = redactUrl(url).replace(/\/$/, '');
  }

  get usable(): boolean {
    return this.state === 'up';
  }

  /** Whether it may have `model`: it listed it, or its list is not known yet. */
  mayHave(model: string): boolean {
    return !this.models || this.models.has(normalizeModelName(model));
  }

  has(model: string): boolean {
    return !!this.models?.has(normalizeModelName(model));
  }

  free(now: number): boolean {
    return this.inUse < this.slots && now >= this.busyUntil;
  }

  /**
   * A probe (`by: 'probe'`) or a call succeeded. Returns true when its state changed (it came
   * back). Only a served call forgets the backoff: a server that answers probes but fails its
   * calls (a stalling runner) waits twice as long each time it fails again, instead of flapping.
   */
  markUp(by: 'probe' | 'call'): boolean {
    if (by === 'call') {
      this.busyStreak = 0;
      this.busyUntil = 0;
      this.cooldownMs = 0;
    }
    if (this.state === 'up') return false;
    this.state = 'up';
    this.reason = undefined;
    this.since = Date.now();
    return true;
  }

  /**
   * A failure that says the server cannot serve (refused, 5xx, stall, time-out): cooled down for
   * twice the last cooldown, from minMs up to maxMs. Returns true when it was usable before.
   */
  markFailed(reason: string, now: number): boolean {
    const wasUp = this.state === 'up';
    this.reason = reason;
    // Calls that were already running when it failed fail too: one failure, one step of backoff.
    if (!wasUp && now < this.retryAt) return false;
    this.cooldownMs = this.cooldownMs ? Math.min(this.cooldownMs * 2, this.policy.maxMs) : this.policy.minMs;
    this.retryAt = now + this.cooldownMs;
    const state: MemberState = this.cooldownMs >= this.policy.maxMs ? 'down' : 'cooling';
    if (state !== this.state) this.since = Date.now();
    this.state = state;
    return wasUp;
  }

  /** 503 "server busy": alive, but sent nothing for a short, growing while (not a cooldown). */
  markBusy(now: number, baseMs: number): number {
    this.busyStreak++;
    const wait = Math.min(baseMs * 2 ** (this.busyStreak - 1), this.policy.maxMs);
    this.busyUntil = now + wait;
    return wait;
  }

  /** Records a model list; returns true when it differs from the one known before. */
  setModels(names: string[]): boolean {
    const next = new Set(names.map(normalizeModelName));
    const same = this.models && this.models.size === next.size && [...next].every((m) => this.models!.has(m));
    this.models = next;
    return !same;
  }

  /** The backend said it lacks `model` (404): forget it until the next model list says otherwise. */
  forget(model: string): void {
    this.models?.delete(normalizeModelName(model));
  }

  recordSpeed(tokens: number, ms: number): void {
    if (tokens <= 0 || ms <= 0) return;
    const tps = (tokens * 1000) / ms;
    this.tokensPerSecond = this.tokensPerSecond === undefined ? tps : this.tokensPerSecond + SPEED_ALPHA * (tps - this.tokensPerSecond);
  }

  countError(kind: LlmErrorKind): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  snapshot(now: number): BackendSnapshot {
    return {
      url: this.label,
      state: this.state,
      ...(this.reason ? { reason: this.reason } : {}),
      since: new Date(this.since).toISOString(),
      ...(this.models ? { models: [...this.models].sort() } : {}),
      slots: this.slots,
      inUse: this.inUse,
      ...(this.tokensPerSecond !== undefined ? { tokensPerSecond: Math.round(this.tokensPerSecond * 10) / 10 } : {}),
      calls: this.calls,
      errors: { ...this.errors },
      ...(this.busyUntil > now ? { busyUntil: new Date(Date.now() + (this.busyUntil - now)).toISOString() } : {}),
    };
  }
}
