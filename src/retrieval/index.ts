/** The retrieval module's public surface. */
export { createKnowledgeBase, prepareKnowledgeBase, type KnowledgeSetup } from './factory.js';
export { TenantKnowledgeBase, detectDimension, type TenantKnowledgeBaseDeps } from './knowledge-base.js';
export { PgVectorStore } from './pg-vector-store.js';
export { QdrantStore } from './qdrant-store.js';
export { DimensionMismatchError, type VectorStore, type TenantVectors, type ChunkVector, type ScoredChunk } from './vector-store.js';
export { parseFile, fileKind, supportedExtensions } from './parse.js';
export { chunkText } from './chunker.js';
