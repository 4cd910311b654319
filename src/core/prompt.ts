/**
 * Prompt assembly: the persona's system prompt, retrieved passages as untrusted reference text,
 * the conversation window, then the question.
 */
import { formatReferenceBlock } from './prompt-block.js';
import type { ChatMessage } from '../ports/llm.js';
import type { Passage } from '../ports/knowledge.js';
import type { StoredMessage } from '../ports/stores.js';

export interface PromptParts {
  systemPrompt: string;
  passages: Passage[];
  history: StoredMessage[];
  question: string;
  /** Name the bot answers as, e.g. for multi-user channels. */
  platformHint?: string;
}

export function buildPrompt(p: PromptParts): ChatMessage[] {
  const out: ChatMessage[] = [{ role: 'system', content: p.systemPrompt }];
  if (p.platformHint) out.push({ role: 'system', content: p.platformHint });
  if (p.passages.length > 0) out.push({ role: 'system', content: formatReferenceBlock(p.passages) });
  for (const m of p.history) out.push({ role: m.role, content: m.content });
  out.push({ role: 'user', content: p.question });
  return out;
}
