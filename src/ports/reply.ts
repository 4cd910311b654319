/**
 * The ReplySink port: what a platform offers for one reply. It only posts, edits, streams and
 * removes messages. Throttling, splitting and "finish exactly once" belong to the core's
 * ReplyStream (src/core/reply/stream.ts), which drives a sink; the contract every sink must keep
 * is test/contracts/reply-sink.ts.
 *
 * Errors a sink throws are logged by the core, so they must not carry message text or tokens.
 */

export type ReplyKind = 'answer' | 'notice' | 'error';

export interface ReplyLimits {
  /** Longest text one message may hold on this platform. */
  maxChars: number;
  /** Smallest gap between two updates of one message this platform tolerates. */
  minUpdateIntervalMs: number;
  /**
   * Oldest a message may get while it still grows (a Slack stream stops taking text after about
   * 5 minutes): an answer still going then continues in a new message. Unset = no limit.
   */
  maxPartAgeMs?: number;
}

/** One message of a reply (the first, or a continuation of a long answer). */
export interface ReplyPart {
  /** Shows `text` as this message's whole content so far (an edit, or the new tail of a stream). */
  update(text: string): Promise<void>;
  /**
   * This message's final content; the part is never touched again. `last`: it ends the reply
   * (an answer's feedback buttons go there).
   */
  close(text: string, kind: ReplyKind, options?: { last?: boolean }): Promise<void>;
  /** Takes the message down (a reply that ended shorter than it streamed). */
  remove(): Promise<void>;
}

export interface NoticeOptions {
  /** Only the caller should see it (settings answers, refusals): ephemeral where the platform can. */
  private: boolean;
  kind: ReplyKind;
}

export interface ReplySink {
  readonly limits: ReplyLimits;
  /**
   * Shows that the bot is on it before there is any text (a placeholder, a deferral, a status).
   * The core calls it at most once, and only for replies that take time.
   */
  working(): Promise<void>;
  /** Opens message `index` of the reply (0 = the first) showing `text`; part 0 takes over whatever working() showed. */
  open(index: number, text: string): Promise<ReplyPart>;
  /**
   * A reply that is a notice rather than an answer, one message per call (the core splits a long
   * one into several calls); the first replaces whatever working() showed.
   */
  notice(text: string, options: NoticeOptions): Promise<void>;
  /**
   * Optional. The reply ended and used `parts` messages: messages past them that an earlier
   * attempt of the same reply left (a resumed answer that came out shorter) are taken down.
   */
  trim?(parts: number): Promise<void>;
  /** Optional. The message ended without any reply: take down whatever the platform shows (a deferral's "thinking…"). */
  unused?(): Promise<void>;
  /**
   * Optional. Says what the bot is doing before there is text ("waiting for a free slot, 3 ahead",
   * "thinking…") where the platform has a status line for it (Slack's thread status), or on what
   * working() put up. Resolves false when it could not be shown here: the core then shows the
   * working indicator instead. `null` clears it.
   */
  status?(text: string | null): Promise<boolean>;
  /** Optional. The conversation's first question: where threads have titles (Slack's assistant threads), one is taken from it. */
  title?(question: string): Promise<void>;
}

/**
 * Thrown by a part's `update` when the platform no longer lets the message grow (a Slack stream
 * past its time): the core closes it with what it shows and goes on in a new message.
 */
export class ReplyPartExpired extends Error {
  constructor(reason: string) {
    super(`the message can no longer be extended: ${reason}`);
    this.name = 'ReplyPartExpired';
  }
}

/**
 * Thrown by a progress write (`open` or `update`) that the platform refused for its rate limit.
 * The Retry-After is wire knowledge; pacing is the core's, so it sends no progress before then.
 */
export class ReplyRateLimited extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`rate-limited; retry after ${Math.round(retryAfterMs)} ms`);
    this.name = 'ReplyRateLimited';
  }
}
