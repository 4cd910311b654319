/** Whether a message stopped because its answer job was handed back (shutdown, a lost lease). */
import { AnswerInterrupted } from '../ports/engine.js';
import type { InboundMessage } from '../ports/messages.js';

/** The interruption an answer job's runner signalled, if that is why this message stopped. */
export function interruptionOf(msg: InboundMessage, err: unknown): AnswerInterrupted | null {
  if (err instanceof AnswerInterrupted) return err;
  const reason: unknown = msg.signal?.aborted ? msg.signal.reason : undefined;
  return reason instanceof AnswerInterrupted ? reason : null;
}
