/**
 * The knowledge base end to end: real database (Postgres with pgvector, else PGlite), the real
 * OllamaBackend against the fake Ollama, PgVectorStore for vectors.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.js';
import { tenants } from '../src/db/schema.js';
import { OllamaBackend } from '../src/llm/ollama-backend.js';
import { ingestFiles, type IngestProgress } from '../src/admin/ingest-files.js';
import { TenantKnowledgeBase } from '../src/retrieval/knowledge-base.js';
import { PgVectorStore } from '../src/retrieval/pg-vector-store.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { createVectorTestDatabase, type TestDatabase } from './helpers/db.js';
import { BotError } from '../src/ports/errors.js';
import type { KnowledgeLimits } from '../src/ports/knowledge.js';
import type { TenantScope } from '../src/ports/tenancy.js';

/** Questions asked in a channel that no document is restricted away from. */
const inGeneral = { channelId: 'general', direct: false };

const MODEL = 'nomic-embed-text';
const limits: KnowledgeLimits = { maxDocuments: 10, maxChunks: 200, maxFileBytes: 64 * 1024 };

let t: TestDatabase;
let database: Database;
let fake: FakeOllama;
let store: PgVectorStore;
let kb: TenantKnowledgeBase;

let tenantCounter = 0;
async function newTenant(): Promise<TenantScope> {
  const [row] = await database.db
    .insert(tenants)
    .values({ platform: 'console', externalId: `kb-${process.pid}-${tenantCounter++}` })
    .returning({ id: tenants.id });
  return { tenantId: row!.id };
}

const embedCalls = () => fake.embedRequests().length;

const policy = [
  'Holiday policy. Every employee gets twenty five days of paid holiday per calendar year.',
  'Unused holiday days can be carried over until the end of March of the following year.',
  'Parental leave is sixteen weeks at full pay for every parent, whatever the family situation.',
  'Expense claims must be filed within thirty days with a scanned receipt attached to the claim.',
].join('\n\n');

beforeAll(async () => {
  t = await createVectorTestDatabase();
  database = t.database;
  fake = await startFakeOllama({ models: [MODEL] });
  const backend = new OllamaBackend({ host: fake.url, stallMs: 5_000, timeoutMs: 10_000 });
  store = new PgVectorStore({ db: database.db });
  kb = new TenantKnowledgeBase({
    db: database.db,
    store,
    backend,
    embedModel: MODEL,
    minScore: 0.3,
    topK: 3,
    chunking: { maxChars: 120, overlap: 30 },
    embedBatchSize: 4,
  });
});

afterAll(async () => {
  await fake?.close();
  await t?.drop();
});

describe('TenantKnowledgeBase', () => {
  it('adds pasted text in chunks, lists it, and retrieves the relevant passage', async () => {
    const scope = await newTenant();
    const { document, replaced } = await kb.add(scope, { title: 'Handbook', text: policy, addedBy: 'U1' }, limits);
    expect(replaced).toBe(false);
    expect(document).toMatchObject({ title: 'Handbook', source: 'paste', bytes: Buffer.byteLength(policy) });
    expect(document.chunkCount).toBeGreaterThanOrEqual(4);
    expect(await store.forTenant(scope).count()).toBe(document.chunkCount);
    expect((await kb.list(scope)).map((d) => d.id)).toEqual([document.id]);

    const passages = await kb.retrieve(scope, 'how many weeks of parental leave at full pay?', inGeneral);
    expect(passages.length).toBeGreaterThan(0);
    expect(passages[0]).toMatchObject({ documentId: document.id, title: 'Handbook' });
    expect(passages[0]!.text).toContain('Parental leave is sixteen weeks');
    expect(await kb.retrieve(scope, 'zebra quantum xylophone', inGeneral)).toEqual([]);
  });

  it('embeds in batches of the configured size', async () => {
    const scope = await newTenant();
    const before = fake.embedRequests().length;
    const long = Array.from({ length: 10 }, (_, i) => `Paragraph number ${i} talks about topic ${i} in some detail here.`).join('\n\n');
    const { document } = await kb.add(scope, { title: 'Long', text: long, addedBy: 'U1' }, limits);
    const calls = fake.embedRequests().slice(before);
    const sizes = calls.map((r) => (Array.isArray(r.body.input) ? r.body.input.length : 1));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(document.chunkCount);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(calls.length).toBe(Math.ceil(document.chunkCount / 4));
  });

  it('re-adding a title replaces the document and deletes its old vectors', async () => {
    const scope = await newTenant();
    const first = await kb.add(scope, { title: 'Menu', text: policy, addedBy: 'U1' }, limits);
    const second = await kb.add(scope, { title: 'Menu', text: 'The canteen serves lentil soup on Mondays.', addedBy: 'U2' }, limits);
    expect(second.replaced).toBe(true);
    expect(second.document.id).not.toBe(first.document.id);
    expect((await kb.list(scope)).map((d) => d.title)).toEqual(['Menu']);
    expect(await store.forTenant(scope).count()).toBe(second.document.chunkCount);
    const passages = await kb.retrieve(scope, 'what soup does the canteen serve on Mondays', inGeneral);
    expect(passages.map((p) => p.documentId)).toEqual([second.document.id]);
    expect(await kb.retrieve(scope, 'how many weeks of parental leave', inGeneral)).toEqual([]);
  });

  it('refuses over the limits with a clear message, before any embedding', async () => {
    const scope = await newTenant();
    const calls = embedCalls();
    const big = Buffer.alloc(limits.maxFileBytes + 1, 'a');
    await expect(kb.add(scope, { file: { filename: 'big.txt', mimeType: 'text/plain', data: big }, addedBy: 'U' }, limits)).rejects.toThrow(
      /"big.txt" is too large \(64 KB\): files can be at most 64 KB/,
    );
    await expect(kb.add(scope, { title: 'Pasted', text: 'x'.repeat(limits.maxFileBytes + 1), addedBy: 'U' }, limits)).rejects.toBeInstanceOf(
      BotError,
    );
    const tight = { ...limits, maxDocuments: 1 };
    await kb.add(scope, { title: 'One', text: 'the only document allowed', addedBy: 'U' }, tight);
    const afterFirst = embedCalls();
    await expect(kb.add(scope, { title: 'Two', text: 'one too many', addedBy: 'U' }, tight)).rejects.toThrow(/already has 1 documents, its limit/);
    // Replacing the one document is not a new document, so it is allowed.
    await expect(kb.add(scope, { title: 'One', text: 'a new version of it', addedBy: 'U' }, tight)).resolves.toMatchObject({ replaced: true });
    const few = { ...limits, maxChunks: 2 };
    const before = embedCalls();
    await expect(kb.add(scope, { title: 'Many', text: policy, addedBy: 'U' }, few)).rejects.toThrow(/over this workspace's limit of 2/);
    expect(embedCalls()).toBe(before);
    expect(afterFirst).toBeGreaterThan(calls);
    await expect(kb.add(scope, { title: 'Empty', text: '   ', addedBy: 'U' }, limits)).rejects.toThrow(/Nothing to add/);
  });

  it('a tenant without documents is answered without an embedding call', async () => {
    const scope = await newTenant();
    const before = embedCalls();
    expect(await kb.retrieve(scope, 'anything at all', inGeneral)).toEqual([]);
    expect(embedCalls()).toBe(before);
  });

  it('remove deletes the vectors; another tenant cannot remove or see it', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const { document } = await kb.add(a, { title: 'Secret', text: policy, addedBy: 'U' }, limits);
    expect(await kb.remove(b, document.id)).toBe(false);
    expect(await kb.retrieve(b, 'parental leave weeks', inGeneral)).toEqual([]);
    expect(await kb.remove(a, 'not-an-id')).toBe(false);
    expect(await kb.remove(a, document.id.slice(0, 8))).toBe(true); // a short id, as lists show
    expect(await kb.list(a)).toEqual([]);
    expect(await store.forTenant(a).count()).toBe(0);
    expect(await kb.remove(a, document.id)).toBe(false);
  });

  it('purge deletes every document and vector of one tenant only', async () => {
    const a = await newTenant();
    const b = await newTenant();
    await kb.add(a, { title: 'A1', text: policy, addedBy: 'U' }, limits);
    await kb.add(a, { title: 'A2', text: 'second document of tenant a', addedBy: 'U' }, limits);
    const kept = await kb.add(b, { title: 'A1', text: policy, addedBy: 'U' }, limits);
    await kb.purge(a);
    expect(await kb.list(a)).toEqual([]);
    expect(await store.forTenant(a).count()).toBe(0);
    expect(await store.forTenant(b).count()).toBe(kept.document.chunkCount);
    expect((await kb.retrieve(b, 'parental leave weeks', inGeneral))[0]?.documentId).toBe(kept.document.id);
  });

  it('purge still deletes the vectors while the embedding backend is down', async () => {
    const scope = await newTenant();
    await kb.add(scope, { title: 'Doomed', text: policy, addedBy: 'U' }, limits);
    // A knowledge base in a fresh process (the admin CLI) that never reached the backend.
    const coldStore = new PgVectorStore({ db: database.db });
    const cold = new TenantKnowledgeBase({ db: database.db, store: coldStore, backend: new OllamaBackend({ host: fake.url, stallMs: 1000, timeoutMs: 2000 }), embedModel: MODEL });
    await fake.down();
    try {
      await cold.purge(scope);
    } finally {
      await fake.up();
    }
    expect(await cold.list(scope)).toEqual([]);
    expect(await store.forTenant(scope).count()).toBe(0);
  });

  it('tenants with the same titles retrieve only their own text', async () => {
    const scopes = await Promise.all(Array.from({ length: 5 }, () => newTenant()));
    for (const [i, s] of scopes.entries()) {
      await kb.add(s, { title: 'Wifi', text: `The office wifi password is secret${i}word and the network is called office.`, addedBy: 'U' }, limits);
    }
    for (const [i, s] of scopes.entries()) {
      const passages = await kb.retrieve(s, 'what is the office wifi password', inGeneral);
      expect(passages.length).toBeGreaterThan(0);
      for (const p of passages) expect(p.text).toContain(`secret${i}word`);
    }
  });

  it('adds an attached Markdown file, titled by its file name', async () => {
    const scope = await newTenant();
    const md = '# Onboarding\n\nNew starters get a **laptop** and a [badge](https://example.com/badge) on day one.';
    const { document } = await kb.add(
      scope,
      { file: { filename: 'onboarding.md', mimeType: 'text/markdown', data: Buffer.from(md) }, addedBy: 'U' },
      limits,
    );
    expect(document).toMatchObject({ title: 'onboarding.md', source: 'onboarding.md' });
    const [p] = await kb.retrieve(scope, 'what do new starters get on day one', inGeneral);
    expect(p?.text).toContain('New starters get a laptop and a badge on day one.');
    expect(p?.text).not.toContain('https://');
  });
});

describe('ingestFiles', () => {
  it('ingests every supported file, reports progress and refusals, and is idempotent', async () => {
    const scope = await newTenant();
    const dir = await mkdtemp(join(tmpdir(), 'ingest-'));
    try {
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'a.txt'), 'Alpha file about apples and orchards.');
      await writeFile(join(dir, 'sub', 'b.md'), '# Bees\n\nBees make honey in hives.');
      await writeFile(join(dir, 'c.html'), '<html><body><h1>Cats</h1><p>Cats chase mice.</p><script>evil()</script></body></html>');
      await writeFile(join(dir, 'big.txt'), 'x'.repeat(limits.maxFileBytes + 10));
      await writeFile(join(dir, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      const events: IngestProgress[] = [];
      const result = await ingestFiles({ kb, scope, path: dir, limits, onProgress: (p) => events.push(p) });
      expect(result).toMatchObject({ added: 3, replaced: 0, skipped: ['image.png'] });
      expect(result.failed).toEqual([{ file: 'big.txt', error: expect.stringMatching(/file size limit of 64 KB/), limit: 'maxFileBytes' }]);
      expect(events.map((e) => `${e.done}/${e.total} ${e.status} ${e.file}`)).toEqual([
        '1/4 added a.txt',
        '2/4 failed big.txt',
        '3/4 added c.html',
        '4/4 added sub/b.md',
      ]);
      expect((await kb.list(scope)).map((d) => d.title).sort()).toEqual(['a.txt', 'c.html', 'sub/b.md']);
      const [cat] = await kb.retrieve(scope, 'what do cats chase', inGeneral);
      expect(cat?.title).toBe('c.html');
      expect(cat?.text).not.toContain('evil');
      const again = await ingestFiles({ kb, scope, path: dir, limits });
      expect(again).toMatchObject({ added: 0, replaced: 3 });
      expect(await kb.list(scope)).toHaveLength(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
