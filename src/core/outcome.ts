/** Builds the HandleOutcome the engine reports to adapters. */
import type { HandleOutcome } from '../ports/engine.js';
import type { ErrorCode } from '../ports/errors.js';

export const outcome = (status: HandleOutcome['status'], replied: boolean, code?: ErrorCode): HandleOutcome =>
  code ? { status, replied, code } : { status, replied };
