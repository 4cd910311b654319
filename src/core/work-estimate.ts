/**
 * What a question will cost before it runs: the tokens token-fair ordering charges at admission
 * and the tokens its quota hold covers. Both are corrected with the backend's own counts at the end,
 * so an estimate only has to be in the right range: the prompt is counted from its text (about
 * four characters a token), the answer from this tenant's recent answers.
 */
import { LRUCache } from 'lru-cache';
import type { ChatMessage } from '../ports/llm.js';
import type { WorkEstimate } from '../ports/admission.js';

export interface QuestionWork {
  /** What the fair order charges: the expected prompt and answer. */
  work: WorkEstimate;
}

/** About four characters a token for English text (Ollama's tokenizers vary around this). */
export const tokensOfText = (chars: number) => Math.ceil(chars / 4);

const DEFAULT_ANSWER_TOKENS = 256;
/** Weight of the newest answer in the running average. */
const ALPHA = 0.2;

/** The prompt's tokens by the rule of thumb: its characters, and a few per message for the chat template. */
export const roughPromptTokens = (prompt: ChatMessage[]) => tokensOfText(prompt.reduce((sum, m) => sum + m.content.length, 0)) + 4 * prompt.length;

interface Learned {
  /** The tenant's usual answer length, in tokens (a running average). */
  answer: number;
  /** Real prompt tokens over the rule of thumb's count: each model's tokenizer differs. */
  promptRatio: number;
}

export class WorkEstimator {
  private readonly learned = new LRUCache<string, Learned>({ max: 20_000 });

  constructor(
    /** Prompt tokens retrieval adds when the question is searched in documents (top-k chunks). */
    private readonly retrievalTokens: number = 4 * tokensOfText(1000),
  ) {}

  estimate(tenantId: string, prompt: ChatMessage[], opts: { withDocuments: boolean; maxTokens?: number | null }): QuestionWork {
    const seen = this.learned.get(tenantId);
    const rough = roughPromptTokens(prompt) + (opts.withDocuments ? this.retrievalTokens : 0);
    const promptTokens = Math.round(rough * (seen?.promptRatio ?? 1));
    const usual = Math.round(seen?.answer ?? DEFAULT_ANSWER_TOKENS);
    const cap = opts.maxTokens ?? undefined;
    const outputTokens = cap === undefined ? usual : Math.min(usual, cap);
    return { work: { promptTokens, outputTokens } };
  }

  /**
   * What to hold against the quota before the persona and the history are read (so the hold's
   * round trip runs beside those reads): the prompt at its largest (the longest system prompt,
   * the whole history budget, the retrieved passages) and the longest answer to expect. It is
   * released, whatever the answer really used, when the answer is metered.
   */
  holdBeforeReading(tenantId: string, opts: { questionChars: number; historyTokens: number; withDocuments: boolean; systemPromptChars: number }): number {
    const prompt = tokensOfText(opts.questionChars + opts.systemPromptChars) + opts.historyTokens + (opts.withDocuments ? this.retrievalTokens : 0);
    const usual = Math.round(this.learned.get(tenantId)?.answer ?? DEFAULT_ANSWER_TOKENS);
    return prompt + Math.max(2 * usual, 2 * DEFAULT_ANSWER_TOKENS);
  }

  /**
   * Learns from an answer's real counts (Ollama's eval_count and prompt_eval_count, against the
   * rule of thumb's count of the prompt that was sent), so the next estimates come closer: an
   * estimate that is off charges a tenant too much or too little while its answer runs.
   */
  learn(tenantId: string, real: { completionTokens: number; promptTokens: number; roughPrompt: number }): void {
    const before = this.learned.get(tenantId);
    const next: Learned = { answer: before?.answer ?? DEFAULT_ANSWER_TOKENS, promptRatio: before?.promptRatio ?? 1 };
    if (real.completionTokens > 0) next.answer = before ? before.answer + ALPHA * (real.completionTokens - before.answer) : real.completionTokens;
    if (real.promptTokens > 0 && real.roughPrompt > 0) {
      const ratio = Math.min(4, Math.max(0.25, real.promptTokens / real.roughPrompt));
      next.promptRatio = before ? before.promptRatio + ALPHA * (ratio - before.promptRatio) : ratio;
    }
    this.learned.set(tenantId, next);
  }
}
