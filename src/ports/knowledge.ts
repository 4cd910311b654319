/** A tenant's knowledge base as the core sees it. */
import type { TenantScope } from './tenancy.js';

export interface Passage {
  documentId: string;
  title: string;
  text: string;
  score: number;
}

export interface KnowledgeDocument {
  id: string;
  title: string;
  source: string;
  chunkCount: number;
  bytes: number;
  createdAt: Date;
}

export interface KnowledgeInput {
  title?: string;
  /** Pasted text; or `file`. */
  text?: string;
  file?: { filename: string; mimeType: string; data: Buffer };
  addedBy: string;
}

export interface KnowledgeLimits {
  maxDocuments: number;
  maxChunks: number;
  maxFileBytes: number;
}

/** Every method is scoped; there is no way to pass a raw filter. */
export interface KnowledgeBase {
  /** Cheap (no backend call): lets the engine skip retrieval before it waits for a slot. */
  hasDocuments(scope: TenantScope): Promise<boolean>;
  retrieve(scope: TenantScope, question: string, signal?: AbortSignal): Promise<Passage[]>;
  add(scope: TenantScope, input: KnowledgeInput, limits: KnowledgeLimits): Promise<{ document: KnowledgeDocument; replaced: boolean }>;
  list(scope: TenantScope): Promise<KnowledgeDocument[]>;
  remove(scope: TenantScope, documentId: string): Promise<boolean>;
  /** Deletes every document and vector of the tenant. */
  purge(scope: TenantScope): Promise<void>;
}
