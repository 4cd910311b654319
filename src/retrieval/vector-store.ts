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
  /** Channels its document may be used in; absent or empty = the whole workspace. */
  channels?: readonly string[];
}

/** A chunk's text by position, for reading a document back (an export). */
export interface StoredPassage {
  chunkNo: number;
  text: string;
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
  /**
   * Where the question is asked: a channel id sees workspace-wide chunks and those restricted to
   * that channel; null (a DM) sees workspace-wide chunks only. Required, so no search forgets it.
   */
  channel: string | null;
}

/** Everything a store can do, for one tenant only. */
export interface TenantVectors {
  upsert(chunks: ChunkVector[]): Promise<void>;
  search(vector: number[], options: SearchOptions): Promise<ScoredChunk[]>;
  deleteDocument(documentId: string): Promise<void>;
  /** Changes the channels a document's chunks may be used in (empty = the whole workspace). */
  setChannels(documentId: string, channels: readonly string[]): Promise<void>;
  /** A document's chunk texts in order (no vectors). */
  passages(documentId: string): Promise<StoredPassage[]>;
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

/**
 * What a chunk's channel list holds when its document is workspace-wide. Stores keep a value
 * rather than an empty list so "workspace-wide or this channel" is one indexed match; no
 * platform's channel id can be `*` (the chat commands refuse it).
 */
export const EVERY_CHANNEL = '*';

/** A chunk's channel list as both stores keep it. */
export function storedChannels(channels: readonly string[] | undefined): string[] {
  if (!channels || channels.length === 0) return [EVERY_CHANNEL];
  if (channels.some((c) => c === EVERY_CHANNEL || c.length === 0)) throw new Error('a channel id cannot be empty or "*"');
  return [...new Set(channels)];
}

/** The channel values a search may match: workspace-wide chunks, and in a channel those restricted to it. */
export function visibleChannels(channel: string | null): string[] {
  return channel === null ? [EVERY_CHANNEL] : [EVERY_CHANNEL, channel];
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}
