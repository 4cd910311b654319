import { LlmError, type LlmErrorKind } from '../ports/llm.js';
/**
 * Turns whatever the `ollama` client (and Node's fetch underneath) throws into an LlmError.
 * The client does not export ResponseError from its Node entry, so HTTP failures are recognised
 * by their `status_code`; network failures by the `code` somewhere in the `cause` chain.
 */

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function networkCode(err: unknown): string | undefined {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  }
  return undefined;
}

export function httpStatus(err: unknown): number | undefined {
  const status = (err as { status_code?: unknown } | null)?.status_code;
  return typeof status === 'number' ? status : undefined;
}

function kindOfStatus(status: number): LlmErrorKind {
  if (status === 404) return 'unknown_model';
  if (status === 503 || status === 429) return 'overloaded';
  return 'failed';
}

/**
 * @param err what was thrown
 * @param abortedAs set when this module aborted the request itself (stall, timeout, caller):
 *   the thrown AbortError then says nothing about why, so the reason wins.
 */
export function toLlmError(err: unknown, abortedAs?: LlmErrorKind, model?: string): LlmError {
  if (err instanceof LlmError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  if (abortedAs) return new LlmError(abortedAs, describe(abortedAs, model), { cause: err });
  const status = httpStatus(err);
  if (status !== undefined) {
    const kind = kindOfStatus(status);
    return new LlmError(kind, `${describe(kind, model)} (HTTP ${status}: ${detail})`, { cause: err });
  }
  const code = networkCode(err);
  if (code) return new LlmError('unreachable', `${describe('unreachable', model)} (${code})`, { cause: err });
  if ((err as Error | null)?.name === 'AbortError') return new LlmError('aborted', describe('aborted', model), { cause: err });
  return new LlmError('failed', `${describe('failed', model)}: ${detail}`, { cause: err });
}

function describe(kind: LlmErrorKind, model?: string): string {
  const m = model ? ` "${model}"` : '';
  switch (kind) {
    case 'unreachable':
      return 'the model server cannot be reached';
    case 'unknown_model':
      return `the model server does not have the model${m}`;
    case 'overloaded':
      return 'the model server is overloaded';
    case 'stalled':
      return 'the model server stopped sending';
    case 'timeout':
      return 'the model server took too long';
    case 'aborted':
      return 'the request was cancelled';
    default:
      return 'the model server failed';
  }
}
