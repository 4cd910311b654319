/** The shared LLM backend as the core sees it. */
import { BotError, ErrorCode } from './errors.js';

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
  /**
   * The conversation this call belongs to (tenant, channel, thread): a pool of backends keeps a
   * conversation on the backend that served it where that costs nothing (Ollama's prompt cache).
   */
  affinity?: string;
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

const codeOfKind: Record<LlmErrorKind, ErrorCode> = {
  unreachable: ErrorCode.LlmUnreachable,
  unknown_model: ErrorCode.LlmUnknownModel,
  overloaded: ErrorCode.LlmOverloaded,
  stalled: ErrorCode.LlmStalled,
  timeout: ErrorCode.LlmTimeout,
  aborted: ErrorCode.LlmAborted,
  failed: ErrorCode.LlmFailed,
};

/**
 * Every backend failure becomes one of these. The message is for the log (it names the model
 * and the HTTP status); users read the code's text.
 */
export class LlmError extends BotError {
  constructor(
    readonly kind: LlmErrorKind,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(codeOfKind[kind], undefined, options);
    this.name = 'LlmError';
    this.message = detail;
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
  /** Whether the backend has `model` (tag optional). Throws LlmError when it cannot tell. */
  hasModel(model: string): Promise<boolean>;
  /** Pulls any of `models` the backend lacks, reporting progress lines. */
  ensureModels(models: string[], onProgress: (line: string) => void): Promise<void>;
}

/**
 * Backend slots as admission sees them: admission never lets more calls run than the backends
 * that can serve now have slots, so no backend's own queue fills.
 */
export interface SlotCapacity {
  /** Slots on backends that can serve now (the sum of their parallel); 0 while none can. */
  capacity(): number;
  /** `listener` runs whenever capacity() may have changed; returns the unsubscribe. */
  onCapacityChange(listener: () => void): () => void;
}
