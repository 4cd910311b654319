/** A tenant's knowledge base as the core sees it, with documents scoped to channels inside it. */
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
  /** Channel ids the document is used in; empty = the whole workspace. */
  channels: string[];
  createdAt: Date;
}

export interface KnowledgeInput {
  title?: string;
  /** Pasted text; or `file`. */
  text?: string;
  file?: { filename: string; mimeType: string; data: Buffer };
  addedBy: string;
  /**
   * Channels the document is used in; empty = the whole workspace. Absent: a new document is
   * workspace-wide and a replaced one keeps its scope (re-adding must not widen who sees it).
   */
  channels?: string[];
}

export interface KnowledgeLimits {
  maxDocuments: number;
  maxChunks: number;
  maxFileBytes: number;
}

/** The most channels one document can be restricted to (`knowledge restrict`). */
export const maxDocumentChannels = 50;

/**
 * Where a question is asked, which decides the documents it may draw on: in a channel (a thread
 * is asked in its channel) the workspace-wide documents and those restricted to that channel;
 * in a DM the workspace-wide ones only.
 */
export interface AskedIn {
  channelId: string;
  direct: boolean;
}

/** Every method is scoped; there is no way to pass a raw filter. */
export interface KnowledgeBase {
  /** Cheap (no backend call): lets the engine skip retrieval before it waits for a slot. */
  hasDocuments(scope: TenantScope, where?: AskedIn): Promise<boolean>;
  retrieve(scope: TenantScope, question: string, where: AskedIn, signal?: AbortSignal): Promise<Passage[]>;
  add(scope: TenantScope, input: KnowledgeInput, limits: KnowledgeLimits): Promise<{ document: KnowledgeDocument; replaced: boolean }>;
  list(scope: TenantScope): Promise<KnowledgeDocument[]>;
  /** Limits a document to `channels` (empty: the whole workspace again); null when there is no such document. */
  restrict(scope: TenantScope, documentId: string, channels: string[]): Promise<KnowledgeDocument | null>;
  remove(scope: TenantScope, documentId: string): Promise<boolean>;
  /** Deletes every document and vector of the tenant. */
  purge(scope: TenantScope): Promise<void>;
}
