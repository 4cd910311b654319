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

export class WorkEstimator {
  private readonly answerTokens = new LRUCache<string, number>({ max: 20_000 });

  constructor(
    /** Prompt tokens retrieval adds when the question is searched in documents (top-k chunks). */
    private readonly retrievalTokens: number = 4 * tokensOfText(1000),
  ) {}

  estimate(tenantId: string, prompt: ChatMessage[], opts: { withDocuments: boolean; maxTokens?: number | null }): QuestionWork {
    const chars = prompt.reduce((sum, m) => sum + m.content.length, 0);
    // Ollama's chat template adds a few tokens per message.
    const promptTokens = tokensOfText(chars) + 4 * prompt.length + (opts.withDocuments ? this.retrievalTokens : 0);
    const usual = Math.round(this.answerTokens.get(tenantId) ?? DEFAULT_ANSWER_TOKENS);
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
    const usual = Math.round(this.answerTokens.get(tenantId) ?? DEFAULT_ANSWER_TOKENS);
    return prompt + Math.max(2 * usual, 2 * DEFAULT_ANSWER_TOKENS);
  }

  /** Learns from an answer's real length (Ollama's eval_count). */
  learn(tenantId: string, completionTokens: number): void {
    if (!(completionTokens > 0)) return;
    const before = this.answerTokens.get(tenantId);
    this.answerTokens.set(tenantId, before === undefined ? completionTokens : before + ALPHA * (completionTokens - before));
  }
}
