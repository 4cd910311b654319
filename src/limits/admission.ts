/**
 * The admission port: every backend call of a tenant goes through `run`, which enforces the
 * tenant's caps and the global backend slots. Implemented with Bottleneck in limiter.ts.
 */
import type { TenantScope } from '../core/ports.js';
import type { TenantLimits } from './plans.js';

/** The queue is full or the wait ran out: the user gets "busy, try again shortly". */
export class BusyError extends Error {
  constructor(
    readonly reason: 'tenant_queue_full' | 'global_queue_full' | 'wait_timeout',
    message = 'busy',
  ) {
    super(message);
    this.name = 'BusyError';
  }
}

export interface AdmissionStats {
  /** Jobs waiting (not yet running) per tenant id. */
  queuedByTenant: Map<string, number>;
  running: number;
  queued: number;
}

export interface Admission {
  /**
   * Runs `task` once the tenant's limiter and a global backend slot allow it. `onStart` is
   * called with the time waited in ms when the task gets its slot.
   * Rejects with BusyError when a queue is full or the wait exceeds the time-out.
   */
  run<T>(scope: TenantScope, limits: TenantLimits, task: () => Promise<T>, onStart?: (waitedMs: number) => void): Promise<T>;
  stats(): AdmissionStats;
  close(): Promise<void>;
}
