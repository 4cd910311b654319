/**
 * A job waiting in the admission, and what tells it why it waits: its place in line (its own
 * tenant's earlier jobs, then the token-fair order), or its tenant's per-minute budget. Waiting
 * jobs are looked at twice a second and told sparingly: each place told is a platform write.
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
  /** The last wait reported, so an unchanged one is not repeated; when, and the place told. */
  told?: string;
  toldAt?: number;
  toldAhead?: number;
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

  /**
   * Tells each waiting job that listens where it stands. One pass: each tenant's earlier waiting
   * jobs are counted as the jobs go by (the set keeps arrival order), and the fair queue is asked
   * once per tenant.
   */
  private tellAll(): void {
    const now = Date.now();
    let listening = 0;
    const ownBefore = new Map<string, number>();
    const fairAhead = new Map<string, number>();
    for (const job of this.pending) {
      if (job.state !== 'queued') continue;
      const own = ownBefore.get(job.tenantId) ?? 0;
      if (job.stage === 'tenant') ownBefore.set(job.tenantId, own + 1);
      if (!job.onWait) continue;
      listening += 1;
      // A slot that comes at once tells nothing.
      if (now - job.enqueuedAt < WAIT_TICK_MS / 2) continue;
      if (job.rateUntil !== undefined && job.stage === 'tenant' && job.rateUntil > now) continue;
      let ahead: number;
      if (job.ticket) ahead = job.ticket.ahead();
      else {
        if (!fairAhead.has(job.tenantId)) fairAhead.set(job.tenantId, this.fair.aheadAtEnd(job.tenantId));
        ahead = own + fairAhead.get(job.tenantId)!;
      }
      if (this.worthTelling(job, ahead, now)) this.tell(job, { kind: 'slot', ahead });
    }
    if (listening === 0) this.stop();
  }

  /**
   * Each told place costs the platform a write (a status line, a message edit), so a job hears its
   * place once, then again only when the line ahead of it has at least halved, at most every 10 s.
   */
  private worthTelling(job: PendingJob, ahead: number, now: number): boolean {
    if (job.toldAhead === undefined || job.toldAt === undefined) return true;
    return ahead <= Math.floor(job.toldAhead / 2) && now - job.toldAt >= RETELL_AFTER_MS;
  }

  tell(job: PendingJob, wait: WaitInfo): void {
    const key = wait.kind === 'slot' ? `slot:${wait.ahead}` : `rate:${Math.ceil(wait.inMs / 5_000)}`;
    if (job.told === key) return;
    job.told = key;
    job.toldAt = Date.now();
    job.toldAhead = wait.kind === 'slot' ? wait.ahead : undefined;
    try {
      job.onWait?.(wait);
    } catch (err) {
      this.logger?.warn({ err }, 'wait listener failed');
    }
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

/** How often waiting jobs are looked at (each is told only as worthTelling() allows); a job younger than half of it is not told yet. */
const WAIT_TICK_MS = 500;
/** Shortest time between two places told to one job. */
const RETELL_AFTER_MS = 10_000;
