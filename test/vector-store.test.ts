/**
 * One contract for every VectorStore, run against PgVectorStore (for real, on Postgres with
 * pgvector or on PGlite) and QdrantStore (through the real client against the fake Qdrant).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { PgVectorStore } from '../src/retrieval/pg-vector-store.js';
import { QdrantStore } from '../src/retrieval/qdrant-store.js';
import { DimensionMismatchError, type ChunkVector, type VectorStore } from '../src/retrieval/vector-store.js';
import { fakeEmbedding } from './fakes/ollama-embedding.js';
import { startFakeQdrant, type FakeQdrant } from './fakes/qdrant.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const DIM = 64;

interface Harness {
  /** A new store instance over the same collection/table (as a second process would open). */
  open(): VectorStore;
  close(): Promise<void>;
}

const scope = () => ({ tenantId: randomUUID() });
const chunk = (documentId: string, chunkNo: number, title: string, text: string): ChunkVector => ({
  documentId,
  chunkNo,
  title,
  text,
  vector: fakeEmbedding(text, DIM),
});

export function vectorStoreContract(name: string, makeHarness: () => Promise<Harness>): void {
  describe(`VectorStore contract: ${name}`, () => {
    let harness: Harness;
    let store: VectorStore;

    beforeAll(async () => {
      harness = await makeHarness();
      store = harness.open();
      await store.init(DIM);
    });
    afterAll(async () => {
      await harness?.close();
    });

    it('init is idempotent and a second instance with another dimension is refused', async () => {
      const again = harness.open();
      await again.init(DIM);
      expect(again.dimension).toBe(DIM);
      const other = harness.open();
      const err = await other.init(DIM * 2).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DimensionMismatchError);
      expect((err as Error).message).toMatch(new RegExp(`dimension ${DIM}.*gives ${DIM * 2}`));
    });

    it('finds the closest chunk first, honours limit and score threshold', async () => {
      const t = store.forTenant(scope());
      const doc = randomUUID();
      await t.upsert([
        chunk(doc, 0, 'Pets', 'cats purr and sleep in the warm sun all afternoon'),
        chunk(doc, 1, 'Pets', 'dogs bark at the postman every single morning'),
        chunk(doc, 2, 'Space', 'rockets launch satellites into low earth orbit'),
      ]);
      const q = fakeEmbedding('why do dogs bark at the postman', DIM);
      const hits = await t.search(q, { limit: 3, minScore: -1 });
      expect(hits).toHaveLength(3);
      expect(hits[0]).toMatchObject({ documentId: doc, chunkNo: 1, title: 'Pets', text: 'dogs bark at the postman every single morning' });
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
      expect(await t.search(q, { limit: 1, minScore: -1 })).toHaveLength(1);
      const strict = await t.search(q, { limit: 3, minScore: 0.6 });
      expect(strict.map((h) => h.chunkNo)).toEqual([1]);
      const same = await t.search(fakeEmbedding('rockets launch satellites into low earth orbit', DIM), { limit: 1, minScore: 0.99 });
      expect(same[0]?.chunkNo).toBe(2);
      expect(same[0]!.score).toBeCloseTo(1, 4);
    });

    it('upserting the same chunk replaces it', async () => {
      const t = store.forTenant(scope());
      const doc = randomUUID();
      await t.upsert([chunk(doc, 0, 'Old', 'first version of the text')]);
      await t.upsert([chunk(doc, 0, 'New', 'second version entirely different words')]);
      expect(await t.count()).toBe(1);
      const [hit] = await t.search(fakeEmbedding('second version entirely different words', DIM), { limit: 5, minScore: -1 });
      expect(hit).toMatchObject({ title: 'New', text: 'second version entirely different words' });
    });

    it('rejects vectors of the wrong dimension', async () => {
      const t = store.forTenant(scope());
      await expect(t.upsert([{ ...chunk(randomUUID(), 0, 'x', 'x'), vector: [1, 2, 3] }])).rejects.toThrow(/dimension/);
      await expect(t.search([1, 2, 3], { limit: 1, minScore: 0 })).rejects.toThrow(/dimension/);
    });

    it('deleteDocument removes that document only, and only for its tenant', async () => {
      const a = store.forTenant(scope());
      const b = store.forTenant(scope());
      const shared = randomUUID(); // adversarial: the same document id under two tenants
      const other = randomUUID();
      await a.upsert([chunk(shared, 0, 'T', 'alpha one'), chunk(shared, 1, 'T', 'alpha two'), chunk(other, 0, 'U', 'alpha three')]);
      await b.upsert([chunk(shared, 0, 'T', 'alpha one')]);
      await a.deleteDocument(shared);
      expect(await a.count()).toBe(1);
      expect(await b.count()).toBe(1);
      const left = await a.search(fakeEmbedding('alpha one', DIM), { limit: 10, minScore: -1 });
      expect(left.map((h) => h.documentId)).toEqual([other]);
    });

    it('deleteAll purges one tenant and leaves the others', async () => {
      const a = store.forTenant(scope());
      const b = store.forTenant(scope());
      await a.upsert([chunk(randomUUID(), 0, 'T', 'purge me please'), chunk(randomUUID(), 0, 'T', 'and me too')]);
      await b.upsert([chunk(randomUUID(), 0, 'T', 'purge me please')]);
      await a.deleteAll();
      expect(await a.count()).toBe(0);
      expect(await a.search(fakeEmbedding('purge me please', DIM), { limit: 10, minScore: -1 })).toEqual([]);
      expect(await b.count()).toBe(1);
    });

    it('20 tenants with the same titles and near-identical texts each see only their own passages', async () => {
      const tenants = Array.from({ length: 20 }, (_, i) => ({ i, scope: scope(), doc: randomUUID() }));
      // Near-identical: same title, same sentences, one tenant-specific code word each.
      const text = (i: number, n: number) => `the holiday policy allows ${20 + n} days off per year code${i} for staff in section ${n}`;
      for (const t of tenants) {
        await store.forTenant(t.scope).upsert([0, 1, 2].map((n) => chunk(t.doc, n, 'Holiday policy', text(t.i, n))));
      }
      for (const t of tenants) {
        const view = store.forTenant(t.scope);
        // Ask with another tenant's code word too: closeness must never cross the boundary.
        const q = fakeEmbedding(`holiday policy days off code${(t.i + 1) % 20}`, DIM);
        const hits = await view.search(q, { limit: 10, minScore: -1 });
        expect(hits).toHaveLength(3);
        for (const h of hits) {
          expect(h.documentId).toBe(t.doc);
          expect(h.text).toContain(`code${t.i} `);
        }
        expect(await view.count()).toBe(3);
      }
    });
  });
}

// --- PgVectorStore, for real --------------------------------------------------------------

let pgDb: TestDatabase | undefined;

/** Real Postgres when it has pgvector, else an in-memory PGlite (which ships it). */
async function vectorDatabase(): Promise<TestDatabase> {
  const t = await createTestDatabase();
  if (await t.database.hasVector()) return t;
  await t.drop();
  const database = await openDatabase({ dataDir: 'memory://' });
  await migrate(database);
  return { database, drop: () => database.close() };
}

vectorStoreContract('PgVectorStore', async () => {
  pgDb = await vectorDatabase();
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
    const index = fakeQdrant!.requests.filter((r) => r.path === '/collections/contract/index');
    expect(index).toHaveLength(1);
    expect(index[0]!.body).toEqual({ field_name: 'tenant_id', field_schema: { type: 'keyword', is_tenant: true } });
  });

  it('every search, count and delete the contract made carried the tenant must filter', () => {
    const scoped = fakeQdrant!.requests.filter((r) => /\/points\/(query|search|count|delete)$/.test(r.path));
    expect(scoped.length).toBeGreaterThan(40);
    for (const r of scoped) {
      const must = r.body?.filter?.must as { key: string; match: { value: unknown } }[] | undefined;
      expect(r.body.points, `${r.path} deletes by id`).toBeUndefined();
      expect(must?.[0]?.key, r.path).toBe('tenant_id');
      expect(typeof must?.[0]?.match.value).toBe('string');
    }
    for (const r of fakeQdrant!.requests.filter((x) => x.path.endsWith('/points') && x.method === 'PUT')) {
      for (const p of r.body.points) expect(typeof p.payload.tenant_id).toBe('string');
    }
  });
});
