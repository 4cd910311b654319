/**
 * The VectorStore contract: one suite every VectorStore passes, run from test/vector-store.test.ts
 * against PgVectorStore (for real, on Postgres with pgvector or on PGlite) and QdrantStore
 * (through the real client against the fake Qdrant). Isolation is tried adversarially: the same
 * document ids, titles, texts and channel ids under several tenants.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DimensionMismatchError, type ChunkVector, type SearchOptions, type VectorStore } from '../../src/retrieval/vector-store.js';
import { fakeEmbedding } from '../fakes/ollama-embedding.js';

export const DIM = 64;

export interface Harness {
  /** A new store instance over the same collection/table (as a second process would open). */
  open(): VectorStore;
  close(): Promise<void>;
}

const scope = () => ({ tenantId: randomUUID() });
const chunk = (documentId: string, chunkNo: number, title: string, text: string, channels?: string[]): ChunkVector => ({
  documentId,
  chunkNo,
  title,
  text,
  vector: fakeEmbedding(text, DIM),
  ...(channels ? { channels } : {}),
});

/** A search from a channel no chunk is restricted to: it sees workspace-wide chunks, as before scopes. */
const top = (limit: number, minScore: number): SearchOptions => ({ limit, minScore, channel: 'C-anywhere' });

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
      const hits = await t.search(q, top(3, -1));
      expect(hits).toHaveLength(3);
      expect(hits[0]).toMatchObject({ documentId: doc, chunkNo: 1, title: 'Pets', text: 'dogs bark at the postman every single morning' });
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
      expect(await t.search(q, top(1, -1))).toHaveLength(1);
      const strict = await t.search(q, top(3, 0.6));
      expect(strict.map((h) => h.chunkNo)).toEqual([1]);
      const same = await t.search(fakeEmbedding('rockets launch satellites into low earth orbit', DIM), top(1, 0.99));
      expect(same[0]?.chunkNo).toBe(2);
      expect(same[0]!.score).toBeCloseTo(1, 4);
    });

    it('upserting the same chunk replaces it', async () => {
      const t = store.forTenant(scope());
      const doc = randomUUID();
      await t.upsert([chunk(doc, 0, 'Old', 'first version of the text')]);
      await t.upsert([chunk(doc, 0, 'New', 'second version entirely different words')]);
      expect(await t.count()).toBe(1);
      const [hit] = await t.search(fakeEmbedding('second version entirely different words', DIM), top(5, -1));
      expect(hit).toMatchObject({ title: 'New', text: 'second version entirely different words' });
    });

    it('rejects vectors of the wrong dimension', async () => {
      const t = store.forTenant(scope());
      await expect(t.upsert([{ ...chunk(randomUUID(), 0, 'x', 'x'), vector: [1, 2, 3] }])).rejects.toThrow(/dimension/);
      await expect(t.search([1, 2, 3], top(1, 0))).rejects.toThrow(/dimension/);
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
      const left = await a.search(fakeEmbedding('alpha one', DIM), top(10, -1));
      expect(left.map((h) => h.documentId)).toEqual([other]);
    });

    it('deleteAll purges one tenant and leaves the others', async () => {
      const a = store.forTenant(scope());
      const b = store.forTenant(scope());
      await a.upsert([chunk(randomUUID(), 0, 'T', 'purge me please'), chunk(randomUUID(), 0, 'T', 'and me too')]);
      await b.upsert([chunk(randomUUID(), 0, 'T', 'purge me please')]);
      await a.deleteAll();
      expect(await a.count()).toBe(0);
      expect(await a.search(fakeEmbedding('purge me please', DIM), top(10, -1))).toEqual([]);
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
        const hits = await view.search(q, top(10, -1));
        expect(hits).toHaveLength(3);
        for (const h of hits) {
          expect(h.documentId).toBe(t.doc);
          expect(h.text).toContain(`code${t.i} `);
        }
        expect(await view.count()).toBe(3);
      }
    });

    it('a channel sees workspace-wide chunks and its own, a DM only workspace-wide ones, with overlapping documents in many channels', async () => {
      const [a, b] = [scope(), scope()];
      // Adversarial: the same text in a workspace-wide document, in documents for #hr, #sales and
      // #hr+#sales together, and in tenant B under the same channel ids and document ids.
      const text = 'salary bands for engineers are reviewed every april by the people team';
      const docs = { everyone: randomUUID(), hr: randomUUID(), sales: randomUUID(), both: randomUUID() };
      await store.forTenant(a).upsert([
        chunk(docs.everyone, 0, 'Handbook', text),
        chunk(docs.hr, 0, 'HR', text, ['C-hr']),
        chunk(docs.sales, 0, 'Sales', text, ['C-sales']),
        chunk(docs.both, 0, 'Both', text, ['C-hr', 'C-sales']),
      ]);
      await store.forTenant(b).upsert([chunk(docs.hr, 0, 'HR of B', text, ['C-hr']), chunk(randomUUID(), 0, 'B everyone', text)]);
      const q = fakeEmbedding('when are salary bands reviewed', DIM);
      const seen = async (channel: string | null) =>
        (await store.forTenant(a).search(q, { limit: 10, minScore: -1, channel })).map((h) => h.documentId).sort();
      expect(await seen('C-hr')).toEqual([docs.everyone, docs.hr, docs.both].sort());
      expect(await seen('C-sales')).toEqual([docs.everyone, docs.sales, docs.both].sort());
      expect(await seen('C-dev')).toEqual([docs.everyone]);
      expect(await seen(null)).toEqual([docs.everyone]);
      // A channel id that is a prefix, or differs only in case, is another channel.
      expect(await seen('C-h')).toEqual([docs.everyone]);
      expect(await seen('c-hr')).toEqual([docs.everyone]);
      const ofB = await store.forTenant(b).search(q, { limit: 10, minScore: -1, channel: 'C-hr' });
      expect(ofB.map((h) => h.title).sort()).toEqual(['B everyone', 'HR of B']);
    });

    it('setChannels narrows and widens one document, for its tenant only', async () => {
      const [a, b] = [scope(), scope()];
      const doc = randomUUID(); // the same id under both tenants
      await store.forTenant(a).upsert([chunk(doc, 0, 'Plan', 'the roadmap for next year'), chunk(doc, 1, 'Plan', 'the roadmap details')]);
      await store.forTenant(b).upsert([chunk(doc, 0, 'Plan', 'the roadmap for next year')]);
      const q = fakeEmbedding('the roadmap for next year', DIM);
      const hits = (s: ReturnType<typeof scope>, channel: string | null) => store.forTenant(s).search(q, { limit: 10, minScore: -1, channel });
      await store.forTenant(a).setChannels(doc, ['C-lead']);
      expect(await hits(a, 'C-dev')).toEqual([]);
      expect(await hits(a, null)).toEqual([]);
      expect(await hits(a, 'C-lead')).toHaveLength(2);
      expect(await hits(b, 'C-dev')).toHaveLength(1); // B's document is untouched
      await store.forTenant(a).setChannels(doc, []);
      expect(await hits(a, 'C-dev')).toHaveLength(2);
      expect(await hits(a, null)).toHaveLength(2);
      await expect(store.forTenant(a).setChannels(doc, ['*'])).rejects.toThrow(/cannot be empty or "\*"/);
    });

    it('an upsert of the same chunk with other channels replaces its scope', async () => {
      const a = scope();
      const doc = randomUUID();
      await store.forTenant(a).upsert([chunk(doc, 0, 'T', 'quarterly numbers', ['C-fin'])]);
      await store.forTenant(a).upsert([chunk(doc, 0, 'T', 'quarterly numbers', ['C-board'])]);
      const q = fakeEmbedding('quarterly numbers', DIM);
      expect(await store.forTenant(a).search(q, { limit: 5, minScore: -1, channel: 'C-fin' })).toEqual([]);
      expect(await store.forTenant(a).search(q, { limit: 5, minScore: -1, channel: 'C-board' })).toHaveLength(1);
      expect(await store.forTenant(a).count()).toBe(1);
    });

    it('passages reads a document back in chunk order, for its tenant only', async () => {
      const [a, b] = [scope(), scope()];
      const doc = randomUUID();
      await store.forTenant(a).upsert([2, 0, 1].map((n) => chunk(doc, n, 'Story', `part ${n} of the story`, n === 1 ? ['C-x'] : undefined)));
      await store.forTenant(b).upsert([chunk(doc, 0, 'Story', 'the other tenant part')]);
      expect(await store.forTenant(a).passages(doc)).toEqual([0, 1, 2].map((n) => ({ chunkNo: n, text: `part ${n} of the story` })));
      expect(await store.forTenant(b).passages(doc)).toEqual([{ chunkNo: 0, text: 'the other tenant part' }]);
      expect(await store.forTenant(a).passages(randomUUID())).toEqual([]);
    });
  });
}

