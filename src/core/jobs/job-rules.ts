/** Small rules of answer jobs: which messages may be joined into one turn, and how a job ends. */
import type { HandleOutcome } from '../../ports/engine.js';
import type { FinalJobState } from '../../ports/jobs.js';
import { hasCommandPrefix, readCommand } from '../commands/read-command.js';

/** The question a message asks, or null for a command (commands are not joined). */
export function questionOf(text: string): string | null {
  try {
    const command = readCommand(text, { commandLine: hasCommandPrefix(text) });
    return command.id === 'ask' ? String(command.args.question) : null;
  } catch {
    return null;
  }
}

export function finalState(o: HandleOutcome): FinalJobState {
  switch (o.status) {
    case 'answered':
    case 'command':
      return 'answered';
    case 'refused':
      return 'refused';
    case 'failed':
      return 'failed';
    default:
      return 'ignored';
  }
}
