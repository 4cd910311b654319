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
  /** Someone pressed stop: the answer is the partial text, marked as stopped. */
  stopped?: boolean;
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

/**
 * What a message run as an answer job reports while it runs, and what an earlier attempt of the
 * same job already did (so a resumed attempt does not store the question twice).
 */
export interface AnswerProgress {
  /** The answer's id (its job's): its buttons carry it, its feedback refers to it. */
  answerId?: string;
  /** The question as an earlier attempt stored it (messages.id): not stored again. */
  questionId?: number;
  questionStored?(id: number): void;
  /** The question waits for a backend slot. */
  waiting?(): void;
  /** The backend is generating the answer. */
  answering?(): void;
  /** Tokens generated so far in this attempt (metered if the process dies before the end). */
  tokens?(generated: number): void;
}

export interface MessageHandler {
  handle(msg: InboundMessage, sink: ReplySink, progress?: AnswerProgress): Promise<HandleOutcome>;
}

/**
 * The abort reason of a message that must be handed back unfinished (the instance is shutting
 * down, or its lease was lost): the reply is left as it is, for whoever resumes the job.
 */
export class AnswerInterrupted extends Error {
  constructor(readonly why: 'shutdown' | 'lease_lost') {
    super(`answer interrupted: ${why}`);
    this.name = 'AnswerInterrupted';
  }
}

/** The abort reason when someone pressed stop: the partial answer is kept, marked as stopped. */
export class AnswerStopped extends Error {
  constructor(readonly by: string) {
    super('answer stopped');
    this.name = 'AnswerStopped';
  }
}

