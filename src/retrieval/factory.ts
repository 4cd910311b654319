/**
 * Picks the knowledge store for this deployment: Qdrant when QDRANT_URL is set, else pgvector
 * in the service's own database when it has the extension, else none (with the reason, so the
 * engine can say "knowledge is not available" instead of failing). Nothing is contacted here
 * but the database: the store is made ready on first use (or by the service's start-up check).
 */
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { TenantKnowledgeBase } from './knowledge-base.js';
import { PgVectorStore } from './pg-vector-store.js';
import { QdrantStore } from './qdrant-store.js';
import { DimensionMismatchError, type VectorStore } from './vector-store.js';
import type { LlmBackend } from '../ports/llm.js';

export type KnowledgeSetup =
  | { knowledge: TenantKnowledgeBase; store: VectorStore; reason?: undefined }
  | { knowledge: undefined; store?: undefined; reason: string };

type KnowledgeConfig = Pick<
  Config,
  'QDRANT_URL' | 'QDRANT_API_KEY' | 'QDRANT_COLLECTION' | 'OLLAMA_EMBED_MODEL' | 'RETRIEVAL_TOP_K' | 'RETRIEVAL_MIN_SCORE'
>;

export async function createKnowledgeBase(deps: {
  config: KnowledgeConfig;
  database: Database;
  backend: LlmBackend;
  logger?: Logger;
}): Promise<KnowledgeSetup> {
  const { config, database, backend, logger } = deps;
  let store: VectorStore;
  if (config.QDRANT_URL) {
    store = new QdrantStore({ url: config.QDRANT_URL, apiKey: config.QDRANT_API_KEY, collection: config.QDRANT_COLLECTION });
  } else if (await database.hasVector()) {
    store = new PgVectorStore({ db: database.db });
  } else {
    const reason =
      'knowledge is not available: QDRANT_URL is unset and this Postgres has no pgvector extension ' +
      '(install pgvector, e.g. the postgresql-NN-pgvector package, or set QDRANT_URL)';
    logger?.warn(reason);
    return { knowledge: undefined, reason };
  }
  const knowledge = new TenantKnowledgeBase({
    db: database.db,
    store,
    backend,
    embedModel: config.OLLAMA_EMBED_MODEL,
    logger,
    topK: config.RETRIEVAL_TOP_K,
    minScore: config.RETRIEVAL_MIN_SCORE,
  });
  return { knowledge, store };
}

/**
 * The service's start-up check: makes the store ready now rather than on the first question.
 * Vectors from another model would silently give wrong answers, so a store built for another
 * embedding dimension stops start-up; anything else (Ollama or Qdrant not up yet) is logged
 * and retried on first use.
 */
export async function prepareKnowledgeBase(knowledge: TenantKnowledgeBase | undefined, logger?: Logger): Promise<void> {
  try {
    await knowledge?.ready();
  } catch (err) {
    if (err instanceof DimensionMismatchError) throw err;
    logger?.warn({ err: String(err) }, 'knowledge store not ready yet; will retry on first use');
  }
}
