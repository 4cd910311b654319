/**
 * Admission: every backend call of a tenant waits here for its tenant's caps and a global
 * backend slot.
 */
import { BotError, ErrorCode } from './errors.js';
import type { TenantLimits, TenantScope } from './tenancy.js';

export type BusyReason = 'tenant_queue_full' | 'global_queue_full' | 'wait_timeout';

const codeOfReason: Record<BusyReason, ErrorCode> = {
  tenant_queue_full: ErrorCode.BusyTenantQueue,
  global_queue_full: ErrorCode.BusyGlobalQueue,
  wait_timeout: ErrorCode.BusyWaitTimeout,
};

/** A queue is full or the wait ran out: the user gets "busy, try again shortly". */
export class BusyError extends BotError {
  constructor(readonly reason: BusyReason) {
    super(codeOfReason[reason]);
    this.name = 'BusyError';
    this.message = `busy: ${reason}`;
  }
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
}

export interface Admission {
  /**
   * Runs `task` once the tenant's limiter and a global backend slot allow it.
   * Rejects with BusyError when a queue is full or the wait exceeds the time-out.
   */
  run<T>(scope: TenantScope, limits: TenantLimits, task: () => Promise<T>, options?: RunOptions): Promise<T>;
  stats(): AdmissionStats;
  close(): Promise<void>;
}
