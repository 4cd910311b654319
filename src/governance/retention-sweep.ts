/**
 * The retention sweep: deletes what has outlived its rule (src/ports/retention.ts): each tenant's
 * messages older than its retention (the plan's longest, or less if its admins chose), finished
 * answer jobs as old (they hold question text), usage counts and audit entries past their
 * deployment-wide terms. Every instance runs it; deletes go in small batches whose rows are
 * picked with FOR UPDATE SKIP LOCKED, so instances sweeping at once share the work instead of
 * waiting on each other, and no statement holds many locks or runs long. Each batch is found
 * through a tenant-first index (messages: tenant_id, created_at).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { and, eq, inArray, lt, notInArray, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { answerJobs, auditLog, messages, usage } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { Counter, MetricRegistry } from '../metrics.js';
import { activeJobStates } from '../ports/jobs.js';
import { keptFor } from '../ports/retention.js';
import type { Tenant } from '../ports/tenancy.js';

const DAY_MS = 86_400_000;

export interface RetentionSweepOptions {
  /** Rows one statement deletes at most. @defaultValue 2000 */
  batchRows?: number;
  /** How often a sweep starts. @defaultValue keptFor.sweepMinutes */
  everyMs?: number;
  /** The first sweep waits up to this long (at random), so instances started together do not sweep together. @defaultValue 60000 */
  firstDelayMs?: number;
  now?: () => Date;
}

export interface RetentionSweepDeps {
  db: Db;
  /** Every tenant, with its effective retention (uninstalled and disabled ones too). */
  tenants: { list(): Promise<Tenant[]> };
  logger: Logger;
  metrics: MetricRegistry;
  options?: RetentionSweepOptions;
}

/** Rows deleted by one sweep, by table. */
export type SweepResult = Record<'messages' | 'answer_jobs' | 'usage' | 'audit_log', number>;

interface Rule {
  table: keyof SweepResult;
  /** Deletes one batch of the tenant's expired rows; resolves with how many. */
  batch(tenant: Tenant, now: Date, rows: number): Promise<number>;
}

export class RetentionSweep {
  private readonly deleted: Counter<'table'>;
  private readonly rules: Rule[];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<SweepResult> | null = null;
  private stopping = false;

  constructor(private readonly deps: RetentionSweepDeps) {
    this.deleted = deps.metrics.counter({
      name: 'bot_retention_deleted_rows_total',
      help: 'Rows the retention sweep deleted, by table (messages, answer_jobs, usage, audit_log)',
      labelNames: ['table'],
    });
    const { db } = deps;
    const expiredBefore = (days: number, now: Date) => new Date(now.getTime() - days * DAY_MS);
    this.rules = [
      {
        table: 'messages',
        batch: (t, now, n) => deleteBatch(db, messages, messages.id, n, t, lt(messages.createdAt, expiredBefore(t.retentionDays, now))),
      },
      {
        // Finished questions hold their text: they go with the conversation (and after a day anyway, see answer-jobs.ts).
        table: 'answer_jobs',
        batch: (t, now, n) =>
          deleteBatch(db, answerJobs, answerJobs.id, n, t,
            and(lt(answerJobs.createdAt, expiredBefore(t.retentionDays, now)), notInArray(answerJobs.state, [...activeJobStates]))!),
      },
      {
        table: 'usage',
        batch: (t, now, n) => deleteBatch(db, usage, usage.day, n, t, lt(usage.day, expiredBefore(keptFor.usageDays, now).toISOString().slice(0, 10))),
      },
      {
        table: 'audit_log',
        batch: (t, now, n) => deleteBatch(db, auditLog, auditLog.id, n, t, lt(auditLog.createdAt, expiredBefore(keptFor.auditDays, now))),
      },
    ];
  }

  start(): void {
    if (this.timer) return;
    this.stopping = false;
    const every = this.deps.options?.everyMs ?? keptFor.sweepMinutes * 60_000;
    const first = Math.random() * (this.deps.options?.firstDelayMs ?? 60_000);
    this.timer = setTimeout(() => {
      void this.runLogged();
      this.timer = setInterval(() => void this.runLogged(), every);
      this.timer.unref();
    }, first);
    this.timer.unref();
  }

  /** No new sweeps; a running one stops after its current batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One sweep over every tenant (a sweep already running is joined, not doubled). */
  runOnce(): Promise<SweepResult> {
    this.running ??= this.sweep().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runLogged(): Promise<void> {
    try {
      await this.runOnce();
    } catch (err) {
      // A database blip: the next sweep tries again.
      this.deps.logger.warn({ err }, 'retention sweep failed');
    }
  }

  private async sweep(): Promise<SweepResult> {
    const { logger, options } = this.deps;
    const now = options?.now?.() ?? new Date();
    const batchRows = options?.batchRows ?? 2000;
    const result: SweepResult = { messages: 0, answer_jobs: 0, usage: 0, audit_log: 0 };
    for (const tenant of await this.deps.tenants.list()) {
      for (const rule of this.rules) {
        try {
          for (let n = batchRows; n === batchRows && !this.stopping; ) {
            n = await rule.batch(tenant, now, batchRows);
            result[rule.table] += n;
            if (n > 0) this.deleted.inc({ table: rule.table }, n);
            // Other work (answers, acks) gets the event loop and the database between batches.
            await yieldToLoop();
          }
        } catch (err) {
          logger.warn({ err, tenantId: tenant.tenantId, table: rule.table }, 'retention sweep failed for a tenant; the next sweep retries');
        }
      }
      if (this.stopping) break;
    }
    if (Object.values(result).some((n) => n > 0)) logger.info({ deleted: result }, 'retention sweep deleted expired rows');
    return result;
  }
}

/**
 * Deletes up to `rows` of the tenant's rows matching `expired`: the victims are picked (and
 * locked, skipping rows another instance holds) through the tenant-first index, then deleted.
 */
async function deleteBatch(
  db: Db,
  table: PgTable & { tenantId: PgColumn },
  key: PgColumn,
  rows: number,
  tenant: Tenant,
  expired: SQL,
): Promise<number> {
  const mine = eq(table.tenantId, tenant.tenantId);
  const victims = db.select({ key }).from(table).where(and(mine, expired)).limit(rows).for('update', { skipLocked: true });
  const gone = await db.delete(table).where(and(mine, inArray(key, victims))).returning({ key });
  return gone.length;
}
