/**
 * Admission: every backend call of a tenant waits here for its tenant's caps and a global
 * backend slot.
 */
import { BotError, ErrorCode } from './errors.js';
import type { TenantLimits, TenantScope } from './tenancy.js';

export type BusyReason = 'tenant_queue_full' | 'global_queue_full' | 'wait_timeout' | 'rate_limited';

const codeOfReason: Record<BusyReason, ErrorCode> = {
  tenant_queue_full: ErrorCode.BusyTenantQueue,
  global_queue_full: ErrorCode.BusyGlobalQueue,
  wait_timeout: ErrorCode.BusyWaitTimeout,
  rate_limited: ErrorCode.BusyRateLimited,
};

/**
 * A queue is full, the wait ran out, or the tenant's per-minute budget is used for longer than a
 * question may wait: the user gets "busy", and when to try again where that is known.
 */
export class BusyError extends BotError {
  constructor(
    readonly reason: BusyReason,
    /** When trying again should work, in ms from now (known for the per-minute budget). */
    readonly retryInMs?: number,
    /** The tenant's requests per minute, for the refusal's wording. */
    perMinute?: number,
  ) {
    super(
      codeOfReason[reason],
      reason === 'rate_limited' && retryInMs !== undefined
        ? (v) => `${budgetUsed(v.workspace, perMinute)} Please try again in ${aboutSeconds(retryInMs)}.`
        : undefined,
    );
    this.name = 'BusyError';
    this.message = `busy: ${reason}`;
  }
}

/** "This workspace's 10 questions a minute are used." */
export const budgetUsed = (workspace: string, perMinute?: number) =>
  perMinute === undefined
    ? `This ${workspace}'s questions for this minute are used.`
    : `This ${workspace}'s ${perMinute} question${perMinute === 1 ? '' : 's'} a minute ${perMinute === 1 ? 'is' : 'are'} used.`;

/** "~20 s" (rounded up to 5 s: it is an estimate). */
export const aboutSeconds = (ms: number) => `~${Math.max(5, Math.ceil(ms / 5_000) * 5)} s`;

/** Why a question waits, for the reply's status line. */
export type WaitInfo =
  /** For a backend slot, behind `ahead` questions (its own workspace's included). */
  | { kind: 'slot'; ahead: number }
  /** For the tenant's per-minute budget to refill, in about `inMs`. */
  | { kind: 'rate'; perMinute: number; inMs: number };

/** The work a job will do, estimated at admission: what token-fair ordering charges. */
export interface WorkEstimate {
  promptTokens: number;
  outputTokens: number;
}

/** Given to a running task: it reports what the job really cost, to correct its tenant's counter. */
export interface AdmittedSlot {
  used(actual: WorkEstimate): void;
}

export interface AdmissionStats {
  /** Jobs waiting (not yet running) per tenant id. */
  queuedByTenant: Map<string, number>;
  running: number;
  queued: number;
}

export interface RunOptions {
  /** Called with the time waited, in ms, when the task gets its slot. */
  onStart?: (waitedMs: number) => void;
  /** Aborting it while the task still waits takes it out of the queue (rejects with the reason). */
  signal?: AbortSignal;
  /** The job's estimated tokens (token-fair order charges it; a default when unknown). */
  work?: WorkEstimate;
  /** Told why the job waits, when it starts waiting and as its place in line changes. */
  onWait?: (wait: WaitInfo) => void;
}

export interface Admission {
  /**
   * Runs `task` once the tenant's limiter and a global backend slot allow it.
   * Rejects with BusyError when a queue is full or the wait exceeds the time-out.
   */
  run<T>(scope: TenantScope, limits: TenantLimits, task: (slot: AdmittedSlot) => Promise<T>, options?: RunOptions): Promise<T>;
  stats(): AdmissionStats;
  close(): Promise<void>;
}
