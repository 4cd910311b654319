/**
 * An answer that ends part-way keeps what it said: stopped by someone (the stop button), or cut
 * off by the backend after some text (a stream that stalled or broke). It is shown and remembered
 * with a mark saying so, instead of an error that would hide the text already read.
 */
import { AnswerStopped } from '../ports/engine.js';
import { LlmError } from '../ports/llm.js';
import type { InboundMessage } from '../ports/messages.js';

export interface PartialEnding {
  /** The reply's final text. */
  shown: string;
  /** What memory keeps. */
  kept: string;
  stopped: boolean;
}

const STOPPED = { shown: '_(stopped)_', kept: '(stopped)', early: '_(stopped before I could answer)_', keptEarly: '(stopped before answering)' };
const CUT_OFF = { shown: '_(cut off: the language model stopped answering; please ask again for the rest)_', kept: '(cut off)' };

/** How an answer that failed with `err` after `text` ends, or null when it ends as an error reply. */
export function partialEnding(msg: InboundMessage, err: unknown, text: string): PartialEnding | null {
  const partial = text.trim();
  if (stopOf(msg)) {
    return partial
      ? { shown: `${partial}\n\n${STOPPED.shown}`, kept: `${partial}\n\n${STOPPED.kept}`, stopped: true }
      : { shown: STOPPED.early, kept: STOPPED.keptEarly, stopped: true };
  }
  if (partial && err instanceof LlmError && err.kind !== 'aborted') {
    return { shown: `${partial}\n\n${CUT_OFF.shown}`, kept: `${partial}\n\n${CUT_OFF.kept}`, stopped: false };
  }
  return null;
}

/** Who stopped the answer, if that is why its signal fired. */
function stopOf(msg: InboundMessage): AnswerStopped | null {
  const reason: unknown = msg.signal?.aborted ? msg.signal.reason : undefined;
  return reason instanceof AnswerStopped ? reason : null;
}
