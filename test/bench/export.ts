/**
 * Export benchmark (called by `npm run bench`, or alone: `npx tsx test/bench/export.ts`): one
 * tenant holding 1,000,000 messages (bulk-inserted with SQL, not through the engine, in 20
 * channels with threads, beside a second tenant of 100,000), exported through the real
 * exportTenant to a file. Reports rows per second, bytes written, and the process's peak memory
 * (RSS and heap, sampled every 20 ms) during the export of the small tenant and of the large
 * one: "memory stays flat" means the two peaks are alike, not ten times apart, and that after a
 * full collection the heap is back where it began (nothing kept per row). Also shows the
 * plan of one export page, which must be an index scan of the tenant's rows, not a sort of them.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { exportTenant } from '../../src/governance/export.js';
import { TenantRegistry } from '../../src/tenancy/registry.js';
import type { Tenant } from '../../src/ports/tenancy.js';
import { createTestDatabase } from '../helpers/db.js';
import { runAlone } from './alone.js';

export interface ExportBenchOptions {
  log?: (line: string) => void;
  messages?: number;
  otherMessages?: number;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const mb = (bytes: number) => round(bytes / 1024 / 1024);

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : ((result as { rows?: T[] }).rows ?? [])) as T[];
}

async function openBenchDatabase(): Promise<{ database: Database; kind: string; close(): Promise<void> }> {
  if (process.env.TEST_DATABASE_URL || process.env.DATABASE_URL) {
    const t = await createTestDatabase();
    return { database: t.database, kind: 'postgres', close: () => t.drop() };
  }
  const database = await openDatabase({ dataDir: 'memory://' });
  await migrate(database);
  return { database, kind: 'pglite', close: () => database.close() };
}

/** `n` messages of a tenant: 20 channels, a third in the timeline and the rest in 50 threads each, about 200 characters of text. */
async function insertMessages(database: Database, tenantId: string, n: number, log: (l: string) => void): Promise<void> {
  const batch = 100_000;
  for (let from = 1; from <= n; from += batch) {
    const to = Math.min(n, from + batch - 1);
    await database.db.execute(sql`insert into messages (tenant_id, channel_id, thread_id, role, user_id, content, tokens, created_at)
      select ${tenantId}::uuid, 'C' || (g % 20), case when g % 3 = 0 then '' else 't' || (g % 50) end,
        case when g % 2 = 0 then 'user' else 'assistant' end, case when g % 2 = 0 then 'U' || (g % 40) end,
        'message ' || g || ': ' || repeat('the quarterly review covers hiring, budget and roadmap. ', 3), 50,
        now() - (g || ' seconds')::interval
      from generate_series(${from}::int, ${to}::int) g`);
    if (to % 500_000 === 0 || to === n) log(`inserted ${to.toLocaleString('en-US')} messages`);
  }
}

export async function benchExport(opts: ExportBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const messages = opts.messages ?? 1_000_000;
  const { database, kind, close } = await openBenchDatabase();
  const file = join(tmpdir(), `export-bench-${randomUUID()}.ndjson`);
  try {
    const registry = new TenantRegistry(database.db, { cacheTtlMs: 0 });
    const tenant = await registry.install('console', 'export-bench');
    const other = await registry.install('console', 'export-bench-other');
    const loadStart = performance.now();
    await insertMessages(database, tenant.tenantId, messages, log);
    await insertMessages(database, other.tenantId, opts.otherMessages ?? 100_000, () => undefined);
    await database.db.execute(sql`analyze messages`);
    const loadSeconds = (performance.now() - loadStart) / 1000;

    const plan = rowsOf<Record<string, string>>(
      await database.db.execute(sql`explain select * from messages where tenant_id = ${tenant.tenantId}::uuid
        and (channel_id, thread_id, id) > ('C1'::text, 't1'::text, 1000::bigint) order by channel_id, thread_id, id limit 5000`),
    )
      .map((r) => Object.values(r)[0])
      .join(' | ');

    // The small tenant first, then the large one: flat memory means the two peaks are alike.
    const small = await measuredExport(database, other, file);
    await rm(file, { force: true });
    const large = await measuredExport(database, tenant, file);
    log(`exported ${large.records.toLocaleString('en-US')} records in ${large.seconds} s (${large.rowsPerSecond} rows/s), heap peak ${large.heapPeakMb} MB`);
    return {
      database: kind,
      messages,
      otherTenantMessages: opts.otherMessages ?? 100_000,
      loadSeconds: round(loadSeconds),
      ...large,
      smallTenant: small,
      pagePlan: plan,
    };
  } finally {
    await rm(file, { force: true });
    await close();
  }
}

/** A full garbage collection, so each measured export starts from the live set (not the last one's garbage). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** One export to `file`, with its speed and the process's memory while it ran. */
async function measuredExport(database: Database, tenant: Tenant, file: string) {
  collectGarbage();
  const before = process.memoryUsage();
  const peak = { rss: before.rss, heapUsed: before.heapUsed };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  }, 20);
  const out = createWriteStream(file);
  const t0 = performance.now();
  try {
    const summary = await exportTenant({ db: database.db }, tenant, out);
    out.end();
    await finished(out);
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    // What the export left alive: back to where it began, whatever the tenant's size.
    collectGarbage();
    const after = process.memoryUsage();
    return {
      records: summary.total,
      seconds: round(seconds, 2),
      rowsPerSecond: Math.round(summary.total / seconds),
      megabytesWritten: mb(out.bytesWritten),
      rssBeforeMb: mb(before.rss),
      rssPeakMb: mb(peak.rss),
      heapBeforeMb: mb(before.heapUsed),
      heapPeakMb: mb(peak.heapUsed),
      heapAfterGcMb: mb(after.heapUsed),
    };
  } finally {
    clearInterval(sampler);
  }
}

// Run alone: npx tsx test/bench/export.ts [messages]
runAlone(import.meta.url, ([messages]) => benchExport({ ...(messages ? { messages: Number(messages) } : {}) }));
