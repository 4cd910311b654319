/**
 * The answer-job table's own latencies (issue 8): a durable accept (the one insert an ack waits
 * for) and a claim of jobs whose lease ran out (`FOR UPDATE SKIP LOCKED`, one tenant at a time),
 * with the table holding a day's finished jobs beside the waiting ones. Alone:
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx test/bench/claims.ts [finished] [waiting]
 */
import { sql } from 'drizzle-orm';
import { PostgresJobStore } from '../../src/delivery/job-store.js';
import { TenantRegistry } from '../../src/tenancy/registry.js';
import { createTestDatabase } from '../helpers/db.js';
import { distribution, type Distribution } from './stats.js';
import { runAlone } from './alone.js';

export interface ClaimBenchResult {
  database: string;
  finishedRows: number;
  waitingRows: number;
  acceptMs: Distribution;
  claimMs: Distribution;
  claimed: number;
  /** Two claimers at once never took the same job. */
  claimedTwice: number;
}

export async function benchClaims(opts: { finished?: number; waiting?: number; tenants?: number } = {}): Promise<ClaimBenchResult> {
  const finished = opts.finished ?? 50_000;
  const waiting = opts.waiting ?? 2_000;
  const tenantCount = opts.tenants ?? 20;
  const db = await createTestDatabase({ maxConnections: 10 });
  try {
    const registry = new TenantRegistry(db.database.db, { defaultPlan: 'team' });
    const tenants = await Promise.all(Array.from({ length: tenantCount }, (_, i) => registry.install('slack', `TBENCH${i}`)));
    // A day's finished jobs (kept for dedupe), written in bulk.
    await db.database.db.execute(sql`
      insert into answer_jobs (tenant_id, platform, tenant_external_id, event_id, channel_id, thread_id, user_id, text, mergeable, delivery, attempts, state)
      select (array[${sql.raw(tenants.map((t) => `'${t.tenantId}'::uuid`).join(','))}])[1 + g % ${tenantCount}], 'slack', 'T', 'old-' || g, 'C' || (g % 50), '', 'U', 'q', true, '{}'::jsonb, 1, 'answered'
      from generate_series(1, ${finished}) g`);
    const store = new PostgresJobStore(db.database.db);
    const acceptTimes: number[] = [];
    for (let i = 0; i < waiting; i++) {
      const t = tenants[i % tenantCount]!;
      const started = performance.now();
      // Leased for 1 ms: the lease runs out at once, as a dead instance's does.
      await store.accept(t, { platform: 'slack', tenantExternalId: `TBENCH${i % tenantCount}`, eventId: `ev-${i}`, channelId: `C${i % 97}`, threadId: `${i}.0001`, userId: 'U1', text: 'a question', delivery: {}, mergeable: true }, 'dead-instance', 1);
      acceptTimes.push(performance.now() - started);
    }
    await new Promise((r) => setTimeout(r, 50));
    const claimTimes: number[] = [];
    const seen = new Map<string, number>();
    let claimed = 0;
    // Two claimers at once, as two instances sweeping together.
    for (;;) {
      const rounds = await Promise.all(
        ['a', 'b'].map(async (owner) => {
          const started = performance.now();
          const jobs = await store.claimExpired(owner, 60_000, 10, ['slack']);
          claimTimes.push(performance.now() - started);
          return jobs;
        }),
      );
      const got = rounds.flat();
      if (got.length === 0) break;
      for (const j of got) seen.set(j.id, (seen.get(j.id) ?? 0) + 1);
      claimed += got.length;
    }
    return {
      database: db.database.describe,
      finishedRows: finished,
      waitingRows: waiting,
      acceptMs: distribution(acceptTimes),
      claimMs: distribution(claimTimes),
      claimed,
      claimedTwice: [...seen.values()].filter((n) => n > 1).length,
    };
  } finally {
    await db.drop();
  }
}

runAlone(import.meta.url, ([finished, waiting]) =>
  benchClaims({ ...(Number(finished) ? { finished: Number(finished) } : {}), ...(Number(waiting) ? { waiting: Number(waiting) } : {}) }),
);
