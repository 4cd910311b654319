import type { TenantScope } from '../ports/tenancy.js';
/**
 * The VectorStore port. A store is opened once (with the embedding model's dimension) and
 * is only ever searched or changed through `forTenant(scope)`: the tenant-scoped view is the
 * single entry point, and no method takes a free-form filter, so a caller cannot ask for
 * another tenant's vectors even by mistake.
 */

/** One chunk of a document, with its embedding. */
export interface ChunkVector {
  documentId: string;
  /** Position of the chunk in its document, from 0. */
  chunkNo: number;
  title: string;
  text: string;
  vector: number[];
}

export interface ScoredChunk {
  documentId: string;
  chunkNo: number;
  title: string;
  text: string;
  /** Cosine similarity, higher is closer (1 = same direction). */
  score: number;
}

export interface SearchOptions {
  limit: number;
  /** Chunks scoring below this are left out. */
  minScore: number;
}

/** Everything a store can do, for one tenant only. */
export interface TenantVectors {
  upsert(chunks: ChunkVector[]): Promise<void>;
  search(vector: number[], options: SearchOptions): Promise<ScoredChunk[]>;
  deleteDocument(documentId: string): Promise<void>;
  /** Deletes every vector of the tenant. */
  deleteAll(): Promise<void>;
  count(): Promise<number>;
}

export interface VectorStore {
  /** 'qdrant' or 'pgvector', for logs and /readyz. */
  readonly kind: string;
  /**
   * Creates the collection/table for vectors of `dimension` when missing (idempotent).
   * Throws DimensionMismatchError when one exists with another dimension.
   */
  init(dimension: number): Promise<void>;
  /** The dimension given to init(), undefined before it. */
  readonly dimension: number | undefined;
  forTenant(scope: TenantScope): TenantVectors;
}

/** The stored vectors were made by another model; mixing them would return nonsense. */
export class DimensionMismatchError extends Error {
  constructor(
    readonly where: string,
    readonly existing: number,
    readonly wanted: number,
  ) {
    super(
      `${where} holds vectors of dimension ${existing}, but the embedding model gives ${wanted}. ` +
        `Use the embedding model the knowledge was indexed with (OLLAMA_EMBED_MODEL), or drop ${where} ` +
        `and re-add the documents.`,
    );
    this.name = 'DimensionMismatchError';
  }
}

/** Shared checks for stores, so both reject the same bad input the same way. */
export function assertVectors(dimension: number | undefined, vectors: number[][]): void {
  if (dimension === undefined) throw new Error('vector store used before init()');
  for (const v of vectors) {
    if (v.length !== dimension) throw new Error(`vector of dimension ${v.length} given to a store of dimension ${dimension}`);
    for (const x of v) if (!Number.isFinite(x)) throw new Error('vector holds a non-finite number');
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}
