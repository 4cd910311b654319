/**
 * createKnowledgeBase: the store it picks, dimension detection and mismatch refusal, and the
 * knowledge base over Qdrant (real client, fake server) end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.js';
import { tenants } from '../src/db/schema.js';
import { OllamaBackend } from '../src/llm/ollama-backend.js';
import { createKnowledgeBase as createOnly, prepareKnowledgeBase, type KnowledgeSetup } from '../src/retrieval/factory.js';
import { DimensionMismatchError } from '../src/retrieval/vector-store.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startFakeQdrant, type FakeQdrant } from './fakes/qdrant.js';
import { createVectorTestDatabase, type TestDatabase } from './helpers/db.js';
import type { KnowledgeLimits } from '../src/ports/knowledge.js';
import type { TenantScope } from '../src/ports/tenancy.js';

/** Questions asked in a channel that no document is restricted away from. */
const inGeneral = { channelId: 'general', direct: false };

const limits: KnowledgeLimits = { maxDocuments: 10, maxChunks: 100, maxFileBytes: 100_000 };
const baseConfig = {
  QDRANT_URL: undefined as string | undefined,
  QDRANT_API_KEY: undefined,
  QDRANT_COLLECTION: 'tenant_knowledge',
  OLLAMA_EMBED_MODEL: 'nomic-embed-text',
  RETRIEVAL_TOP_K: 3,
  RETRIEVAL_MIN_SCORE: 0.3,
};

let t: TestDatabase;
let database: Database;
let ollama: FakeOllama;
let qdrant: FakeQdrant;
let backend: OllamaBackend;

let n = 0;
async function newTenant(): Promise<TenantScope> {
  const [row] = await database.db.insert(tenants).values({ platform: 'console', externalId: `q-${process.pid}-${n++}` }).returning();
  return { tenantId: row!.id };
}

beforeAll(async () => {
  t = await createVectorTestDatabase();
  database = t.database;
  ollama = await startFakeOllama({ models: ['nomic-embed-text', 'mxbai-embed-large'], dims: { 'nomic-embed-text': 96, 'mxbai-embed-large': 48 } });
  qdrant = await startFakeQdrant();
  backend = new OllamaBackend({ host: ollama.url, stallMs: 5_000, timeoutMs: 10_000 });
});

afterAll(async () => {
  await qdrant?.close();
  await ollama?.close();
  await t?.drop();
});

/** Built and made ready, as the service does at start-up. */
async function createKnowledgeBase(deps: Parameters<typeof createOnly>[0]): Promise<KnowledgeSetup> {
  const setup = await createOnly(deps);
  await prepareKnowledgeBase(setup.knowledge);
  return setup;
}

describe('createKnowledgeBase with QDRANT_URL', () => {
  it('creates the collection with the model dimension and serves a tenant through Qdrant', async () => {
    const setup = await createKnowledgeBase({ config: { ...baseConfig, QDRANT_URL: qdrant.url }, database, backend });
    expect(setup.store?.kind).toBe('qdrant');
    expect(qdrant.collections.get('tenant_knowledge')?.size).toBe(96);
    const kb = setup.knowledge!;
    const a = await newTenant();
    const b = await newTenant();
    const docA = await kb.add(a, { title: 'Parking', text: 'Staff park on level two of the garage after nine.', addedBy: 'U' }, limits);
    await kb.add(b, { title: 'Parking', text: 'Visitors park on level five of the garage before noon.', addedBy: 'U' }, limits);
    const [hit] = await kb.retrieve(a, 'where do staff park in the garage', inGeneral);
    expect(hit).toMatchObject({ documentId: docA.document.id, title: 'Parking' });
    expect(hit!.text).toContain('level two');
    for (const p of await kb.retrieve(b, 'where do staff park in the garage', inGeneral)) expect(p.text).toContain('level five');

    expect(await kb.remove(a, docA.document.id)).toBe(true);
    const count = (tenantId: string) => [...qdrant.collections.get('tenant_knowledge')!.points.values()].filter((p) => p.payload.tenant_id === tenantId).length;
    expect(count(a.tenantId)).toBe(0);
    expect(count(b.tenantId)).toBeGreaterThan(0);
    await kb.purge(b);
    expect(count(b.tenantId)).toBe(0);

    const queries = qdrant.requests.filter((r) => r.path.endsWith('/points/query') || r.path.endsWith('/points/delete'));
    expect(queries.length).toBeGreaterThanOrEqual(4);
    for (const q of queries) expect(q.body.filter.must[0]).toMatchObject({ key: 'tenant_id', match: { value: expect.any(String) } });
  });

  it('refuses to start when the collection was built for another embedding model', async () => {
    const err = await createKnowledgeBase({
      config: { ...baseConfig, QDRANT_URL: qdrant.url, OLLAMA_EMBED_MODEL: 'mxbai-embed-large' },
      database,
      backend,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DimensionMismatchError);
    expect((err as Error).message).toMatch(/Qdrant collection tenant_knowledge holds vectors of dimension 96, but the embedding model gives 48/);
  });
});

describe('createKnowledgeBase without QDRANT_URL', () => {
  it('uses pgvector in the service database, and refuses another dimension later', async () => {
    const setup = await createKnowledgeBase({ config: baseConfig, database, backend });
    expect(setup.store?.kind).toBe('pgvector');
    expect(setup.store?.dimension).toBe(96);
    const scope = await newTenant();
    await setup.knowledge!.add(scope, { title: 'Lunch', text: 'Lunch is served at half past twelve in the atrium.', addedBy: 'U' }, limits);
    expect((await setup.knowledge!.retrieve(scope, 'when is lunch served', inGeneral))[0]?.title).toBe('Lunch');
    await expect(
      createKnowledgeBase({ config: { ...baseConfig, OLLAMA_EMBED_MODEL: 'mxbai-embed-large' }, database, backend }),
    ).rejects.toThrow(/table knowledge_chunks holds vectors of dimension 96, but the embedding model gives 48/);
  });

  it('says why knowledge is unavailable when the database has no pgvector', async () => {
    const noVector: Database = { ...database, hasVector: async () => false };
    const setup = await createKnowledgeBase({ config: baseConfig, database: noVector, backend });
    expect(setup.knowledge).toBeUndefined();
    expect(setup.reason).toMatch(/QDRANT_URL is unset and this Postgres has no pgvector/);
  });

  it('starts while Ollama is down and becomes ready on first use', async () => {
    await ollama.down();
    let setup;
    try {
      setup = await createKnowledgeBase({ config: { ...baseConfig, QDRANT_URL: qdrant.url, QDRANT_COLLECTION: 'late' }, database, backend });
      expect(setup.knowledge).toBeDefined();
      expect(qdrant.collections.has('late')).toBe(false);
    } finally {
      await ollama.up();
    }
    const scope = await newTenant();
    await setup.knowledge!.add(scope, { title: 'Late', text: 'The late store still works once the backend is up.', addedBy: 'U' }, limits);
    expect(qdrant.collections.get('late')?.size).toBe(96);
  });
});
