/**
 * Retrieval benchmark (called by `npm run bench`, or alone: `npx tsx test/bench/retrieval.ts`).
 *
 * 1. Search latency of PgVectorStore with 100,000 chunks spread over 100 tenants: on the real
 *    Postgres of TEST_DATABASE_URL when it has pgvector, else on embedded PGlite. Vectors are
 *    generated inside the database (random, dimension 256) so loading takes seconds, not
 *    minutes; queries go through the real tenant-scoped store API. Half of the tenants then
 *    scope their documents to channels (each: 50 documents of 20 chunks, 10 workspace-wide, 40
 *    restricted to 2 of its 20 channels); the other half keep every document workspace-wide, as
 *    before scopes. The same table and rows serve both, and the three kinds of search
 *    (workspace-wide, from a channel, from a DM) run in alternating rounds, so their ratio
 *    comes from one run on the same machine state.
 * 2. Embedding throughput by batch size (1, 8, 32, 128) through the real OllamaBackend against
 *    the fake Ollama: this measures the client/HTTP/batching overhead, not a model.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../../src/db/client.js';
import { OllamaBackend } from '../../src/llm/ollama-backend.js';
import { PgVectorStore } from '../../src/retrieval/pg-vector-store.js';
import { startFakeOllama } from '../fakes/ollama.js';
import { createTestDatabase } from '../helpers/db.js';
import { distribution } from './stats.js';
import { runAlone } from './alone.js';

export interface RetrievalBenchOptions {
  log?: (line: string) => void;
  tenants?: number;
  chunks?: number;
  dimension?: number;
  queries?: number;
  topK?: number;
  embedTexts?: number;
  batchSizes?: number[];
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** The real Postgres when it has pgvector, else a fresh in-memory PGlite (which ships it). */
async function openBenchDatabase(log: (l: string) => void): Promise<{ database: Database; kind: string; close(): Promise<void> }> {
  if (process.env.TEST_DATABASE_URL || process.env.DATABASE_URL) {
    const t = await createTestDatabase();
    if (await t.database.hasVector()) return { database: t.database, kind: 'postgres', close: () => t.drop() };
    log('the Postgres of TEST_DATABASE_URL has no pgvector extension; using embedded PGlite');
    await t.drop();
  }
  const database = await openDatabase({ dataDir: 'memory://' });
  return { database, kind: 'pglite', close: () => database.close() };
}

function randomVector(dim: number): number[] {
  return Array.from({ length: dim }, () => Math.random() * 2 - 1);
}

async function benchSearch(o: Required<Omit<RetrievalBenchOptions, 'log'>>, log: (l: string) => void) {
  const { database, kind, close } = await openBenchDatabase(log);
  try {
    const store = new PgVectorStore({ db: database.db, table: 'bench_chunks' });
    await store.init(o.dimension);
    const tenantIds = Array.from({ length: o.tenants }, () => randomUUID());
    const perTenant = Math.ceil(o.chunks / o.tenants);
    const loadStart = performance.now();
    for (const [i, tenantId] of tenantIds.entries()) {
      // The correlated `where g >= 0` makes the vector subquery run once per row (a new random vector each).
      await database.db.execute(sql`insert into bench_chunks (tenant_id, document_id, chunk_no, title, text, embedding)
        select ${tenantId}::uuid, md5(${tenantId} || (g / 20)::text)::uuid, g, 'document ' || (g / 20), 'chunk text number ' || g,
          (select array_agg(random() * 2 - 1)::real[]::vector from generate_series(1, ${o.dimension}) where g >= 0)
        from generate_series(0, ${perTenant - 1}) g`);
      if ((i + 1) % 20 === 0) log(`loaded ${(i + 1) * perTenant} chunks`);
    }
    await database.db.execute(sql`analyze bench_chunks`);
    const loadMs = performance.now() - loadStart;
    const half = Math.floor(tenantIds.length / 2);
    const [unscoped, scopedTenants] = [tenantIds.slice(0, half), tenantIds.slice(half)];
    const scoped = await scopeDocuments(database, scopedTenants);
    const from = (ids: string[]) => () => ({ tenantId: ids[Math.floor(Math.random() * ids.length)]! });
    const channelOf = () => `C${Math.floor(Math.random() * CHANNELS)}`;
    // Three kinds of search, in alternating rounds: every chunk visible (today's workspace-wide
    // case), from one of the tenant's 20 channels, and from a DM (workspace-wide documents only).
    const kinds = {
      workspaceWide: { pick: from(unscoped), channel: () => 'C0' },
      fromChannel: { pick: from(scopedTenants), channel: channelOf },
      fromDm: { pick: from(scopedTenants), channel: () => null },
    };
    const times: Record<keyof typeof kinds, number[]> = { workspaceWide: [], fromChannel: [], fromDm: [] };
    const returned: Record<keyof typeof kinds, number> = { workspaceWide: 0, fromChannel: 0, fromDm: 0 };
    for (const k of Object.values(kinds)) {
      for (let i = 0; i < 20; i++) await store.forTenant(k.pick()).search(randomVector(o.dimension), { limit: o.topK, minScore: -1, channel: k.channel() });
    }
    const rounds = 10;
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      for (const [name, k] of Object.entries(kinds) as [keyof typeof kinds, (typeof kinds)[keyof typeof kinds]][]) {
        for (let i = 0; i < o.queries / rounds; i++) {
          const vector = randomVector(o.dimension);
          const t0 = performance.now();
          const hits = await store.forTenant(k.pick()).search(vector, { limit: o.topK, minScore: -1, channel: k.channel() });
          times[name].push(performance.now() - t0);
          returned[name] += hits.length;
        }
      }
    }
    const elapsed = performance.now() - started;
    const latency = distribution(times.workspaceWide);
    const channelLatency = distribution(times.fromChannel);
    const dmLatency = distribution(times.fromDm);
    return {
      database: kind,
      store: 'pgvector (exact cosine over the tenant rows, tenant-first primary key)',
      tenants: o.tenants,
      chunks: perTenant * o.tenants,
      chunksPerTenant: perTenant,
      dimension: o.dimension,
      loadSeconds: round(loadMs / 1000, 1),
      queries: o.queries,
      topK: o.topK,
      meanHitsReturned: round(returned.workspaceWide / o.queries, 1),
      latencyMs: latency,
      queriesPerSecond: round(((3 * o.queries) / elapsed) * 1000, 1),
      channelScopes: {
        layout: `half the tenants scoped: ${CHANNELS} channels a tenant; 50 documents of 20 chunks: 10 workspace-wide, 40 restricted to 2 channels each`,
        visibleChunksFromChannel: scoped.visibleFromChannel,
        visibleChunksFromDm: scoped.visibleFromDm,
        fromChannelLatencyMs: channelLatency,
        fromDmLatencyMs: dmLatency,
        meanHitsFromChannel: round(returned.fromChannel / o.queries, 1),
        searchPlan: scoped.plan,
        /** Same run, alternating rounds: scoped over workspace-wide. */
        p50RatioChannelToWorkspaceWide: round(channelLatency.p50 / latency.p50, 2),
        p99RatioChannelToWorkspaceWide: round(channelLatency.p99 / latency.p99, 2),
      },
    };
  } finally {
    await close();
  }
}

const CHANNELS = 20;

/** postgres.js returns an array of rows; PGlite returns `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : ((result as { rows?: T[] }).rows ?? [])) as T[];
}

/**
 * Scopes the documents of `tenants`: a tenant's document d (chunks 20d..20d+19) stays
 * workspace-wide for d < 10, else is restricted to channels C(d mod 20) and C((d+7) mod 20).
 */
async function scopeDocuments(database: Database, tenants: string[]) {
  const ids = sql.join(
    tenants.map((t) => sql`${t}::uuid`),
    sql`, `,
  );
  await database.db.execute(sql`update bench_chunks set channels = case when chunk_no / 20 < 10 then array['*']
    else array['C' || ((chunk_no / 20) % ${CHANNELS}), 'C' || ((chunk_no / 20 + 7) % ${CHANNELS})] end
    where tenant_id in (${ids})`);
  await database.db.execute(sql`vacuum analyze bench_chunks`);
  const count = async (where: ReturnType<typeof sql>) => {
    const rows = rowsOf<{ n: number }>(
      await database.db.execute(sql`select count(*)::float / count(distinct tenant_id) as n from bench_chunks where tenant_id in (${ids}) and ${where}`),
    );
    return round(Number(rows[0]!.n), 0);
  };
  const plan = rowsOf<Record<string, string>>(
    await database.db.execute(sql`explain select document_id from bench_chunks
      where tenant_id = ${tenants[0]!}::uuid and channels && array['*', 'C3']::text[]
      order by embedding <=> (select embedding from bench_chunks limit 1) limit 4`),
  )
    .map((r) => Object.values(r)[0])
    .join(' | ');
  return { plan, visibleFromChannel: await count(sql`channels && array['*', 'C3']`), visibleFromDm: await count(sql`channels && array['*']`) };
}

async function benchEmbedding(o: Required<Omit<RetrievalBenchOptions, 'log'>>) {
  const fake = await startFakeOllama({ models: ['nomic-embed-text'], dims: { 'nomic-embed-text': o.dimension } });
  try {
    const maxBatch = Math.max(...o.batchSizes);
    const backend = new OllamaBackend({ host: fake.url, stallMs: 30_000, timeoutMs: 60_000, embedBatchSize: maxBatch });
    const words = 'policy holiday expense travel office parking lunch laptop badge security meeting report'.split(' ');
    const texts = Array.from({ length: o.embedTexts }, (_, i) =>
      Array.from({ length: 120 }, (_, j) => words[(i * 7 + j * 13) % words.length]).join(' '),
    );
    await backend.embed('nomic-embed-text', texts.slice(0, 8)); // warm the connection
    const byBatchSize: Record<string, unknown> = {};
    for (const size of o.batchSizes) {
      const calls: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < texts.length; i += size) {
        const c0 = performance.now();
        await backend.embed('nomic-embed-text', texts.slice(i, i + size));
        calls.push(performance.now() - c0);
      }
      const ms = performance.now() - t0;
      byBatchSize[`batch${size}`] = { textsPerSecond: round((texts.length / ms) * 1000, 0), requests: calls.length, requestMs: distribution(calls) };
    }
    return { backend: 'OllamaBackend -> fake Ollama (hashed bag-of-words)', texts: texts.length, wordsPerText: 120, dimension: o.dimension, byBatchSize };
  } finally {
    await fake.close();
  }
}

export async function benchRetrieval(opts: RetrievalBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const o = {
    tenants: opts.tenants ?? 100,
    chunks: opts.chunks ?? 100_000,
    dimension: opts.dimension ?? 256,
    queries: opts.queries ?? 500,
    topK: opts.topK ?? 4,
    embedTexts: opts.embedTexts ?? 1024,
    batchSizes: opts.batchSizes ?? [1, 8, 32, 128],
  };
  log(`search: ${o.chunks} chunks over ${o.tenants} tenants, dimension ${o.dimension}`);
  const search = await benchSearch(o, log);
  log(`search p50 ${search.latencyMs.p50} ms, p99 ${search.latencyMs.p99} ms (${search.database})`);
  const c = search.channelScopes;
  log(`scoped from a channel p50 ${c.fromChannelLatencyMs.p50} ms, p99 ${c.fromChannelLatencyMs.p99} ms; from a DM p99 ${c.fromDmLatencyMs.p99} ms (ratio to workspace-wide p99 ${c.p99RatioChannelToWorkspaceWide})`);
  log(`embedding: ${o.embedTexts} texts at batch sizes ${o.batchSizes.join(', ')}`);
  const embedding = await benchEmbedding(o);
  return { search, embedding };
}

// Run alone: npx tsx test/bench/retrieval.ts
runAlone(import.meta.url, () => benchRetrieval());
