/** The port adapters use to hand a message to the core, and what the core tells them back. */
import type { ErrorCode } from './errors.js';
import type { InboundMessage } from './messages.js';
import type { ReplySink } from './reply.js';

export type HandleStatus =
  /** A retried delivery of a message already handled. */
  | 'duplicate'
  /** No tenant for this workspace or guild (never installed). */
  | 'no_tenant'
  /** The tenant is uninstalled or disabled. */
  | 'tenant_inactive'
  /** Not for the bot (chatter in a mention-only channel, an empty message). */
  | 'ignored'
  /** A command ran and its reply was sent. */
  | 'command'
  /** A question was answered. */
  | 'answered'
  /** Refused on purpose (quota, busy, permissions, bad input): the user was told why. */
  | 'refused'
  /** Something broke: the user was told it failed. */
  | 'failed';

/** What went into an answer, for the one log line per message and for benchmarks. */
export interface AnswerDetails {
  persona: string;
  /** Knowledge passages put into the prompt. */
  passages: number;
  promptTokens: number;
  completionTokens: number;
  /** Time spent waiting for a backend slot, in ms. */
  waitMs: number;
}

/** What happened to one message, and whether the user saw a reply. */
export interface HandleOutcome {
  status: HandleStatus;
  /** True when the sink was given a reply (an answer, a notice, an error). */
  replied: boolean;
  /** Why it was refused or failed. */
  code?: ErrorCode;
  /** Set when the backend was asked (answered, or failed part-way). */
  answer?: AnswerDetails;
}

export interface MessageHandler {
  handle(msg: InboundMessage, sink: ReplySink): Promise<HandleOutcome>;
}
