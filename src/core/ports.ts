/**
 * The core's ports: small interfaces that adapters and infrastructure implement. The core
 * depends only on these, never on a platform SDK.
 */

export type Platform = 'slack' | 'discord' | 'console';

/**
 * Proof that a caller resolved a tenant. Every store method takes one; stores filter by
 * `tenantId` and nothing else decides which tenant's rows a query sees.
 */
export interface TenantScope {
  readonly tenantId: string;
}

// ---------------------------------------------------------------------------------------
// Shared LLM backend

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  /** Upper bound on generated tokens (Ollama's num_predict). */
  maxTokens?: number;
  signal?: AbortSignal;
}

export interface ChatResult {
  text: string;
  /** Ollama's prompt_eval_count. */
  promptTokens: number;
  /** Ollama's eval_count. */
  completionTokens: number;
  /** Time spent inside the backend call, from first byte sent to last byte read, in ms. */
  backendMs: number;
}

export type LlmErrorKind = 'unreachable' | 'unknown_model' | 'overloaded' | 'stalled' | 'timeout' | 'aborted' | 'failed';

/** Every backend failure becomes one of these; the engine turns it into a friendly reply. */
export class LlmError extends Error {
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LlmError';
  }
}

export interface BackendHealth {
  ok: boolean;
  /** Models the backend has (when reachable). */
  models: string[];
  error?: string;
}

export interface LlmBackend {
  /** Streams a chat answer; `onText` gets each new piece of text in order. */
  chat(req: ChatRequest, onText: (delta: string) => void): Promise<ChatResult>;
  /** Embeds many inputs in one request (Ollama's batched `input` array). */
  embed(model: string, inputs: string[], signal?: AbortSignal): Promise<number[][]>;
  health(): Promise<BackendHealth>;
  /** Pulls any of `models` the backend lacks, reporting progress lines. */
  ensureModels(models: string[], onProgress: (line: string) => void): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Replies

export interface FinishOptions {
  /** Visible only to the caller where the platform allows it (settings answers). */
  ephemeral?: boolean;
  /** 'error' lets a sink style a failure (the placeholder becomes the error text). */
  kind?: 'answer' | 'notice' | 'error';
}

/**
 * Given by an adapter to the engine for one reply. The engine calls start() once, then
 * update() with the whole text so far (already throttled to `minUpdateIntervalMs`), then
 * finish() exactly once. A sink splits text past its platform's limit.
 */
export interface ReplySink {
  /** Smallest gap between two update() calls this platform tolerates for one message. */
  readonly minUpdateIntervalMs: number;
  /** Post a placeholder (or defer) so the user sees the bot is on it. */
  start(): Promise<void>;
  update(textSoFar: string): Promise<void>;
  finish(text: string, options?: FinishOptions): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Inbound

export interface InboundFile {
  filename: string;
  mimeType: string;
  size: number;
  /** Downloads the file's bytes (with the tenant's own credentials). */
  read(): Promise<Buffer>;
}

export interface PriorMessage {
  role: 'user' | 'assistant';
  userId: string | null;
  text: string;
}

export interface Caller {
  userId: string;
  /** Adapter-supplied permission check (Slack admin/owner/installer, Discord Manage Server). */
  isAdmin(): Promise<boolean>;
}

export interface InboundMessage {
  platform: Platform;
  /** Slack team (or enterprise) id, Discord guild id, console workspace name. */
  tenantExternalId: string;
  /** Platform delivery id for dedupe (Slack event_id, Discord interaction/message id). */
  eventId?: string;
  channelId: string;
  /** Thread id; null for the channel's own timeline (and DMs). */
  threadId: string | null;
  caller: Caller;
  text: string;
  /**
   * 'command': the text is the command grammar (a slash command's text);
   * 'message': a chat message, which may still be a command ("@bot persona list").
   */
  kind: 'command' | 'message';
  /** Mentioned the bot, replied to it, used a slash command or a DM. */
  addressed: boolean;
  isDirect: boolean;
  attachments?: InboundFile[];
  /** Earlier messages of the thread the bot had not seen (first mention in a thread). */
  priorMessages?: PriorMessage[];
}

// ---------------------------------------------------------------------------------------
// Knowledge (implemented by src/retrieval)

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

/** A tenant's knowledge base. Every method is scoped; there is no way to pass a raw filter. */
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

export interface KnowledgeLimits {
  maxDocuments: number;
  maxChunks: number;
  maxFileBytes: number;
}

/** Thrown for refusals the user should read as-is (limits, bad files). */
export class UserFacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserFacingError';
  }
}
