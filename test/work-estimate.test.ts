/** Estimates of a question's tokens learn from the backend's own counts, per tenant. */
import { describe, expect, it } from 'vitest';
import { roughPromptTokens, WorkEstimator } from '../src/core/work-estimate.js';
import type { ChatMessage } from '../src/ports/llm.js';

const prompt: ChatMessage[] = [
  { role: 'system', content: 'You answer questions about the release process.'.repeat(4) },
  { role: 'user', content: 'How do I reset the staging database before the release?' },
];

describe('WorkEstimator', () => {
  it('starts from the rule of thumb, then follows what the backend counted, for that tenant only', () => {
    const e = new WorkEstimator();
    const rough = roughPromptTokens(prompt);
    expect(e.estimate('a', prompt, { withDocuments: false }).work).toEqual({ promptTokens: rough, outputTokens: 256 });
    // This tenant's model counts half the tokens the rule of thumb does, and answers in 40.
    for (let i = 0; i < 40; i++) e.learn('a', { completionTokens: 40, promptTokens: Math.round(rough / 2), roughPrompt: rough });
    const learned = e.estimate('a', prompt, { withDocuments: false }).work;
    expect(learned.promptTokens).toBeGreaterThanOrEqual(Math.floor(rough / 2) - 1);
    expect(learned.promptTokens).toBeLessThanOrEqual(Math.ceil(rough / 2) + 1);
    expect(learned.outputTokens).toBe(40);
    // Another tenant is untouched; a persona's cap bounds the answer.
    expect(e.estimate('b', prompt, { withDocuments: false }).work.promptTokens).toBe(rough);
    expect(e.estimate('b', prompt, { withDocuments: false, maxTokens: 16 }).work.outputTokens).toBe(16);
  });

  it('holds more than it expects: the prompt at its largest and twice the usual answer', () => {
    const e = new WorkEstimator();
    const hold = e.holdBeforeReading('a', { questionChars: 400, historyTokens: 3000, withDocuments: true, systemPromptChars: 4000 });
    expect(hold).toBe(1100 + 3000 + 1000 + 512);
  });
});
