/**
 * TenantKnowledgeBase: the KnowledgeBase port over the `documents` table (metadata, the text and
 * the channels a document is used in) and a VectorStore (chunks and their embeddings). Every
 * method takes a TenantScope, and the store is only reached through `store.forTenant(scope)`.
 *
 * Write order keeps the two stores consistent without a shared transaction: new vectors go in
 * under a fresh document id first, then the documents row is swapped in one transaction, then
 * the replaced document's vectors are deleted. Retrieval keeps only hits whose document row
 * exists and allows the asking channel, so vectors left behind by a crash in between, or a
 * restriction half applied, never widen what a channel sees.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { documents } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { chunkText, defaultChunkOptions, type ChunkOptions } from './chunker.js';
import { checkLimits, cleanTitle, documentTitled, readInput } from './document-input.js';
import { isUuid, type StoredPassage, type VectorStore } from './vector-store.js';
import { BotError, ErrorCode } from '../ports/errors.js';
import type { AskedIn, KnowledgeBase, KnowledgeDocument, KnowledgeInput, KnowledgeLimits, Passage } from '../ports/knowledge.js';
import type { LlmBackend } from '../ports/llm.js';
import type { TenantScope } from '../ports/tenancy.js';

export interface TenantKnowledgeBaseDeps {
  db: Db;
  store: VectorStore;
  backend: LlmBackend;
  embedModel: string;
  logger?: Logger;
  /** Passages scoring below this cosine similarity are not returned. */
  minScore?: number;
  /** Most passages returned by retrieve(). */
  topK?: number;
  chunking?: ChunkOptions;
  /** Inputs per embedding request. */
  embedBatchSize?: number;
}

/** Embeds a probe string to learn the model's vector size (models do not advertise it). */
export async function detectDimension(backend: LlmBackend, model: string): Promise<number> {
  const [v] = await backend.embed(model, ['dimension probe']);
  if (!v || v.length === 0) throw new Error(`embedding model ${model} returned no vector`);
  return v.length;
}

type DocumentRow = typeof documents.$inferSelect;

function toDocument(row: DocumentRow): KnowledgeDocument {
  return {
    id: row.id,
    title: row.title,
    source: row.source,
    chunkCount: row.chunkCount,
    bytes: row.bytes,
    channels: row.channels,
    createdAt: row.createdAt,
  };
}

/** Documents a question asked `where` may draw on: workspace-wide ones, and in a channel its own. */
function visibleIn(where: AskedIn): SQL {
  const everywhere = sql`cardinality(${documents.channels}) = 0`;
  return where.direct ? everywhere : sql`(${everywhere} or ${where.channelId} = any(${documents.channels}))`;
}

/** The channel a vector search runs in: null for a DM (workspace-wide documents only). */
const searchChannel = (where: AskedIn): string | null => (where.direct ? null : where.channelId);

export class TenantKnowledgeBase implements KnowledgeBase {
  private readonly db: Db;
  private readonly store: VectorStore;
  private readonly backend: LlmBackend;
  private readonly embedModel: string;
  private readonly logger?: Logger;
  private readonly minScore: number;
  private readonly topK: number;
  private readonly chunking: ChunkOptions;
  private readonly embedBatchSize: number;
  private readying: Promise<void> | undefined;

  constructor(deps: TenantKnowledgeBaseDeps) {
    this.db = deps.db;
    this.store = deps.store;
    this.backend = deps.backend;
    this.embedModel = deps.embedModel;
    this.logger = deps.logger;
    this.minScore = deps.minScore ?? 0.35;
    this.topK = deps.topK ?? 4;
    this.chunking = deps.chunking ?? defaultChunkOptions;
    this.embedBatchSize = Math.max(1, deps.embedBatchSize ?? 32);
  }

  /**
   * Detects the embedding dimension and creates the store's collection/table. Runs once; a
   * failure (backend down) is forgotten so the next call tries again.
   */
  ready(): Promise<void> {
    this.readying ??= (async () => {
      const dimension = await detectDimension(this.backend, this.embedModel);
      await this.store.init(dimension);
      this.logger?.info({ store: this.store.kind, dimension, model: this.embedModel }, 'knowledge store ready');
    })().catch((err: unknown) => {
      this.readying = undefined;
      throw err;
    });
    return this.readying;
  }

  async hasDocuments(scope: TenantScope, where?: AskedIn): Promise<boolean> {
    const tenant = eq(documents.tenantId, scope.tenantId);
    const any = await this.db
      .select({ id: documents.id })
      .from(documents)
      .where(where ? and(tenant, visibleIn(where)) : tenant)
      .limit(1);
    return any.length > 0;
  }

  async retrieve(scope: TenantScope, question: string, where: AskedIn, signal?: AbortSignal): Promise<Passage[]> {
    // Most tenants (and channels) have no documents: answer that from the database without an embedding call.
    if (!question.trim() || !(await this.hasDocuments(scope, where))) return [];
    await this.ready();
    const [vector] = await this.backend.embed(this.embedModel, [question.slice(0, 4000)], signal);
    if (!vector) return [];
    const hits = await this.store.forTenant(scope).search(vector, { limit: this.topK, minScore: this.minScore, channel: searchChannel(where) });
    if (hits.length === 0) return [];
    const ids = [...new Set(hits.map((h) => h.documentId))];
    // The rows decide too: a hit counts only if its document still exists and allows this channel.
    const live = await this.db
      .select({ id: documents.id, title: documents.title })
      .from(documents)
      .where(and(eq(documents.tenantId, scope.tenantId), inArray(documents.id, ids), visibleIn(where)));
    const titles = new Map(live.map((d) => [d.id, d.title]));
    return hits
      .filter((h) => titles.has(h.documentId))
      .map((h) => ({ documentId: h.documentId, title: titles.get(h.documentId)!, text: h.text, score: h.score }));
  }

  async add(
    scope: TenantScope,
    input: KnowledgeInput,
    limits: KnowledgeLimits,
  ): Promise<{ document: KnowledgeDocument; replaced: boolean }> {
    const { text, source, mimeType, bytes } = await readInput(input, limits);
    const title = cleanTitle(input.title) || (input.file ? cleanTitle(input.file.filename) : cleanTitle(text.split('\n')[0]).slice(0, 80));
    if (!title) throw new BotError(ErrorCode.InvalidInput, 'Please give the document a title, e.g. `knowledge add Holiday policy: <text>`.');
    const chunks = chunkText(text, this.chunking);
    if (chunks.length === 0) throw new BotError(ErrorCode.FileUnreadable, `I found no text to learn from in "${title}".`);

    const replaces = await documentTitled(this.db, scope, title);
    await checkLimits(this.db, scope, { title, chunks: chunks.length, replaces }, limits);
    // A new version keeps the old one's channels unless told otherwise: re-adding never widens who sees it.
    const channels = [...new Set(input.channels ?? replaces?.channels ?? [])];
    await this.ready();
    const vectors = await this.embedAll(chunks);

    const documentId = randomUUID();
    const vectorsOfTenant = this.store.forTenant(scope);
    await vectorsOfTenant.upsert(chunks.map((t, i) => ({ documentId, chunkNo: i, title, text: t, vector: vectors[i]!, channels })));
    let replacedId: string | undefined;
    let row: DocumentRow;
    try {
      row = await this.db.transaction(async (tx) => {
        const old = await tx
          .delete(documents)
          .where(and(eq(documents.tenantId, scope.tenantId), eq(documents.title, title)))
          .returning({ id: documents.id });
        replacedId = old[0]?.id;
        const [inserted] = await tx
          .insert(documents)
          .values({
            id: documentId,
            tenantId: scope.tenantId,
            title,
            source,
            mimeType,
            bytes,
            chunkCount: chunks.length,
            content: text,
            channels,
            addedBy: input.addedBy,
          })
          .returning();
        return inserted!;
      });
    } catch (err) {
      await vectorsOfTenant.deleteDocument(documentId).catch(() => undefined);
      throw err;
    }
    if (replacedId) {
      await vectorsOfTenant.deleteDocument(replacedId).catch((err: unknown) => {
        // Harmless for answers (retrieve() ignores vectors without a document row); logged for the operator.
        this.logger?.warn({ err, tenantId: scope.tenantId, documentId: replacedId }, 'could not delete replaced vectors');
      });
    }
    this.logger?.info({ tenantId: scope.tenantId, documentId, chunks: chunks.length, bytes, replaced: Boolean(replacedId) }, 'knowledge added');
    return { document: toDocument(row), replaced: Boolean(replacedId) };
  }

  private async embedAll(texts: string[]): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.embedBatchSize) {
      const batch = texts.slice(i, i + this.embedBatchSize);
      const vectors = await this.backend.embed(this.embedModel, batch);
      if (vectors.length !== batch.length) throw new Error(`embedding returned ${vectors.length} vectors for ${batch.length} inputs`);
      out.push(...vectors);
    }
    return out;
  }

  async list(scope: TenantScope): Promise<KnowledgeDocument[]> {
    const rows = await this.db
      .select()
      .from(documents)
      .where(eq(documents.tenantId, scope.tenantId))
      .orderBy(asc(documents.createdAt), asc(documents.title));
    return rows.map(toDocument);
  }

  /**
   * Limits a document to `channels` (empty: the whole workspace again). The row changes first and
   * retrieval checks the row too, so a narrowing holds at once even if the vectors lag behind; a
   * vector store failure is thrown, and running the command again finishes it.
   */
  async restrict(scope: TenantScope, documentId: string, channels: string[]): Promise<KnowledgeDocument | null> {
    const id = await this.resolveId(scope, documentId.trim().toLowerCase());
    if (!id) return null;
    const unique = [...new Set(channels)];
    const [row] = await this.db
      .update(documents)
      .set({ channels: unique, updatedAt: new Date() })
      .where(and(eq(documents.tenantId, scope.tenantId), eq(documents.id, id)))
      .returning();
    if (!row) return null;
    await this.store.forTenant(scope).setChannels(id, unique);
    this.logger?.info({ tenantId: scope.tenantId, documentId: id, channels: unique.length }, 'knowledge scope changed');
    return toDocument(row);
  }

  /** A document's passages as the vector store holds them (documents added before their text was kept). */
  async passagesOf(scope: TenantScope, documentId: string): Promise<StoredPassage[]> {
    return this.store.forTenant(scope).passages(documentId);
  }

  /** `documentId` is a full id or a unique prefix of at least 8 hex digits (as lists show). */
  async remove(scope: TenantScope, documentId: string): Promise<boolean> {
    const id = await this.resolveId(scope, documentId.trim().toLowerCase());
    if (!id) return false;
    const deleted = await this.db
      .delete(documents)
      .where(and(eq(documents.tenantId, scope.tenantId), eq(documents.id, id)))
      .returning({ id: documents.id });
    if (deleted.length === 0) return false;
    await this.store.forTenant(scope).deleteDocument(id);
    this.logger?.info({ tenantId: scope.tenantId, documentId: id }, 'knowledge removed');
    return true;
  }

  private async resolveId(scope: TenantScope, given: string): Promise<string | undefined> {
    if (isUuid(given)) return given;
    if (!/^[0-9a-f]{8}[0-9a-f-]*$/.test(given)) return undefined;
    const rows = await this.db
      .select({ id: documents.id })
      .from(documents)
      .where(and(eq(documents.tenantId, scope.tenantId), sql`${documents.id}::text like ${given + '%'}`))
      .limit(2);
    return rows.length === 1 ? rows[0]!.id : undefined;
  }

  async purge(scope: TenantScope): Promise<void> {
    // Vectors first: if deleting them fails, the document rows still list what remains, and a
    // re-run finishes the job. Deleting needs no dimension, so a backend that is down must not
    // block a purge: try to get ready, then delete regardless.
    await this.ready().catch((err: unknown) => this.logger?.warn({ err: String(err) }, 'knowledge store not ready during purge'));
    await this.store.forTenant(scope).deleteAll();
    await this.db.delete(documents).where(eq(documents.tenantId, scope.tenantId));
    this.logger?.info({ tenantId: scope.tenantId }, 'knowledge purged');
  }
}
