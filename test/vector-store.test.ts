/**
 * The VectorStore contract (test/contracts/vector-store.ts) run against PgVectorStore (for real,
 * on Postgres with pgvector or on PGlite) and QdrantStore (through the real client against the
 * fake Qdrant), and what each store sends or keeps that the contract cannot see: Qdrant's
 * filters and indexes on the wire, and stores made before channel scopes existed.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { PgVectorStore, vectorLiteral } from '../src/retrieval/pg-vector-store.js';
import { QdrantStore } from '../src/retrieval/qdrant-store.js';
import { DIM, vectorStoreContract } from './contracts/vector-store.js';
import { fakeEmbedding } from './fakes/ollama-embedding.js';
import { startFakeQdrant, type FakeQdrant } from './fakes/qdrant.js';
import { createVectorTestDatabase, type TestDatabase } from './helpers/db.js';

// --- PgVectorStore, for real --------------------------------------------------------------

let pgDb: TestDatabase | undefined;

vectorStoreContract('PgVectorStore', async () => {
  pgDb = await createVectorTestDatabase();
  const db = pgDb.database.db;
  return { open: () => new PgVectorStore({ db, table: 'contract_chunks' }), close: () => pgDb!.drop() };
});

// --- QdrantStore, through the real client against the fake server --------------------------

let fakeQdrant: FakeQdrant | undefined;

vectorStoreContract('QdrantStore', async () => {
  fakeQdrant = await startFakeQdrant();
  const url = fakeQdrant.url;
  return { open: () => new QdrantStore({ url, collection: 'contract' }), close: () => fakeQdrant!.close() };
});

describe('QdrantStore on the wire', () => {
  it('created the collection with per-tenant HNSW and an is_tenant keyword index', () => {
    const create = fakeQdrant!.requests.find((r) => r.method === 'PUT' && r.path === '/collections/contract');
    expect(create?.body).toMatchObject({ vectors: { size: DIM, distance: 'Cosine' }, hnsw_config: { payload_m: 16, m: 0 } });
    const creates = fakeQdrant!.requests.filter((r) => r.method === 'PUT' && r.path === '/collections/contract');
    expect(creates).toHaveLength(1); // later init() calls found it and did not recreate it
    const index = fakeQdrant!.requests.filter((r) => r.path === '/collections/contract/index').map((r) => r.body);
    // Once each: later init() calls found them.
    expect(index).toEqual([
      { field_name: 'tenant_id', field_schema: { type: 'keyword', is_tenant: true } },
      { field_name: 'channels', field_schema: 'keyword' },
    ]);
  });

  it('every search, count, scroll, payload change and delete the contract made carried the tenant must filter', () => {
    const scoped = fakeQdrant!.requests.filter((r) => /\/points\/(query|search|count|delete|scroll|payload)$/.test(r.path));
    // The start-up backfill (points without channels) is the one payload change across tenants.
    const backfill = (r: { body: any }) => r.body?.filter?.must?.[0]?.is_empty?.key === 'channels';
    expect(scoped.filter((r) => !backfill(r)).length).toBeGreaterThan(40);
    for (const r of scoped.filter((x) => !backfill(x))) {
      const must = r.body?.filter?.must as { key: string; match: { value: unknown } }[] | undefined;
      expect(r.body.points, `${r.path} works by id`).toBeUndefined();
      expect(must?.[0]?.key, r.path).toBe('tenant_id');
      expect(typeof must?.[0]?.match.value).toBe('string');
    }
    for (const r of fakeQdrant!.requests.filter((x) => x.path.endsWith('/points') && x.method === 'PUT')) {
      for (const p of r.body.points) {
        expect(typeof p.payload.tenant_id).toBe('string');
        expect(p.payload.channels.length).toBeGreaterThan(0);
      }
    }
  });

  it('every search also carried the channels it may see, in the same filter, on an indexed field', () => {
    const searches = fakeQdrant!.requests.filter((r) => /\/points\/(query|search)$/.test(r.path));
    for (const r of searches) {
      const must = r.body.filter.must as { key: string; match: { any?: string[] } }[];
      const channels = must.find((c) => c.key === 'channels');
      expect(channels?.match.any?.[0], JSON.stringify(r.body.filter)).toBe('*');
    }
  });
});

describe('QdrantStore on a collection made before channel scopes', () => {
  let qdrant: FakeQdrant;
  afterAll(async () => {
    await qdrant?.close();
  });

  it('makes points stored without channels workspace-wide when a store starts', async () => {
    qdrant = await startFakeQdrant();
    await new QdrantStore({ url: qdrant.url, collection: 'old' }).init(DIM);
    const tenantId = randomUUID();
    const collection = qdrant.collections.get('old')!;
    const documentId = randomUUID();
    const id = randomUUID();
    // As an older version wrote it: no channels in the payload.
    collection.points.set(id, {
      id,
      vector: fakeEmbedding('an old handbook page', DIM),
      payload: { tenant_id: tenantId, document_id: documentId, chunk_no: 0, title: 'Old', text: 'an old handbook page' },
    });
    const fresh = new QdrantStore({ url: qdrant.url, collection: 'old' });
    await fresh.init(DIM);
    const hits = await fresh.forTenant({ tenantId }).search(fakeEmbedding('an old handbook page', DIM), { limit: 3, minScore: -1, channel: 'C-any' });
    expect(hits.map((h) => h.documentId)).toEqual([documentId]);
    expect(collection.points.get(id)!.payload.channels).toEqual(['*']);
  });
});

describe('PgVectorStore on a table made before channel scopes', () => {
  let t: TestDatabase;
  afterAll(async () => {
    await t?.drop();
  });

  it('adds the channels column at start, and its old chunks are workspace-wide', async () => {
    t = await createVectorTestDatabase();
    const db = t.database.db;
    await db.execute(sql`create extension if not exists vector`);
    await db.execute(sql`create table old_chunks (tenant_id uuid not null, document_id uuid not null, chunk_no integer not null,
      title text not null, text text not null, embedding vector(${sql.raw(String(DIM))}) not null, primary key (tenant_id, document_id, chunk_no))`);
    const tenantId = randomUUID();
    const documentId = randomUUID();
    const v = vectorLiteral(fakeEmbedding('parking is on level two', DIM));
    await db.execute(sql`insert into old_chunks values (${tenantId}::uuid, ${documentId}::uuid, 0, 'Parking', 'parking is on level two', ${v}::vector)`);
    const store = new PgVectorStore({ db, table: 'old_chunks' });
    await store.init(DIM);
    const q = fakeEmbedding('where is parking', DIM);
    for (const channel of ['C-any', null]) {
      const hits = await store.forTenant({ tenantId }).search(q, { limit: 3, minScore: -1, channel });
      expect(hits.map((h) => h.documentId)).toEqual([documentId]);
    }
  });
});
