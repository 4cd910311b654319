/**
 * A job waiting in the admission, and what tells it why it waits: its place in line (its own
 * tenant's earlier jobs, then the token-fair order), or its tenant's per-minute budget. Waiting
 * jobs are told once a second, and only when that changed.
 */
import type { Logger } from '../logger.js';
import type { FairQueue, FairTicket } from './fair-queue.js';
import type { WaitInfo } from '../ports/admission.js';

export type JobState = 'queued' | 'running' | 'finished' | 'cancelled';

export interface PendingJob {
  readonly id: string;
  readonly tenantId: string;
  readonly enqueuedAt: number;
  state: JobState;
  /** Where the job waits: for a tenant slot, or (holding one) for a backend slot. */
  stage: 'tenant' | 'global';
  timer?: NodeJS.Timeout;
  reject: (error: unknown) => void;
  /** Its place in the fair queue while it waits there. */
  ticket?: FairTicket;
  /** Lets go of the tenant slot of a job cancelled in the fair queue. */
  leave?: () => void;
  onWait?: (wait: WaitInfo) => void;
  /** The last wait reported, so an unchanged one is not repeated. */
  told?: string;
  /** Until when the job waits for its tenant's per-minute budget (ms epoch). */
  rateUntil?: number;
}

export class WaitTeller {
  private ticker?: NodeJS.Timeout;

  constructor(
    private readonly pending: ReadonlySet<PendingJob>,
    private readonly fair: FairQueue,
    private readonly logger?: Logger,
  ) {}

  /** A job that listens joined: waiting jobs are told where they stand from now on. */
  listen(): void {
    this.ticker ??= setInterval(() => this.tellAll(), WAIT_TICK_MS).unref();
  }

  stop(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Tells each waiting job that listens where it stands, when that changed (a slot that comes at once tells nothing). */
  private tellAll(): void {
    const now = Date.now();
    let listening = 0;
    for (const job of this.pending) {
      if (!job.onWait || job.state !== 'queued') continue;
      listening += 1;
      if (now - job.enqueuedAt < WAIT_TICK_MS / 2) continue;
      if (job.rateUntil !== undefined && job.stage === 'tenant' && job.rateUntil > now) continue;
      this.tell(job, { kind: 'slot', ahead: this.aheadOf(job) });
    }
    if (listening === 0) this.stop();
  }

  tell(job: PendingJob, wait: WaitInfo): void {
    const key = wait.kind === 'slot' ? `slot:${wait.ahead}` : `rate:${Math.ceil(wait.inMs / 5_000)}`;
    if (job.told === key) return;
    job.told = key;
    try {
      job.onWait?.(wait);
    } catch (err) {
      this.logger?.warn({ err }, 'wait listener failed');
    }
  }

  /** Questions that get a slot before this job: its tenant's earlier ones and the fair queue's order. */
  private aheadOf(job: PendingJob): number {
    if (job.ticket) return job.ticket.ahead();
    return this.ownWaitingBefore(job) + this.fair.aheadAtEnd(job.tenantId);
  }

  /** This tenant's jobs that wait for a tenant slot and came before `job`. */
  ownWaitingBefore(job: PendingJob): number {
    let n = 0;
    for (const other of this.pending) {
      if (other === job) break;
      if (other.tenantId === job.tenantId && other.stage === 'tenant' && other.state === 'queued') n += 1;
    }
    return n;
  }
}

/** How often waiting jobs are told where they stand (only when it changed). */
const WAIT_TICK_MS = 1_000;
