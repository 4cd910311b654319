/**
 * The messages one Slack reply is made of, each a ReplyPart the core's ReplyStream drives:
 * - StreamPart: a native stream (chat.startStream by working()); text is appended as it grows
 *   and chat.stopStream ends it; a final text that does not extend what was appended stops the
 *   stream and replaces the text with chat.update;
 * - UpdatePart: an ordinary message (a placeholder or a posted part) edited with chat.update,
 *   progress marked with a trailing " …";
 * - ResponsePart: a slash command where the bot is not in the channel can only answer through
 *   response_url, which cannot be edited: it posts once, when closed.
 * Progress writes go through a client that rejects rate-limited calls at once; a 429 becomes
 * ReplyRateLimited so the core waits out Retry-After. Final writes use the client that retries.
 * A reply that is an answer (the wire has its id) carries blocks: its text as Markdown with a
 * stop button while it grows, and the feedback buttons on the message that ends it.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../src/logger.js';
import { ReplyPartExpired, ReplyRateLimited, type ReplyKind, type ReplyPart } from '../../src/ports/reply.js';
import { answerBlocks, type AnswerControls } from './answer-blocks.js';
import { markdownToMrkdwn } from './mrkdwn.js';

export const THINKING_TASK = { type: 'task_update' as const, id: 'answer', title: 'Thinking…' };
const PROGRESS_MARK = ' …';

export interface SlackWire {
  /** Bounded retries (it waits out a short Retry-After): final writes. */
  client: WebClient;
  /** Rejects rate-limited calls at once: progress writes. */
  progressClient: WebClient;
  channel: string;
  logger: Logger;
  /** The answer this reply gives (its buttons carry it); unset for replies without buttons. */
  answerId?: string;
}

/** The controls a closing message carries: feedback on the message that ends an answer, else none. */
export function closingControls(kind: ReplyKind, last: boolean | undefined): AnswerControls {
  return kind === 'answer' && last ? 'feedback' : 'none';
}

/** chat.postMessage / chat.update content: mrkdwn text, and an answer's blocks when it has an id. */
export function content(wire: SlackWire, markdown: string, controls: AnswerControls): { text: string; blocks?: ReturnType<typeof answerBlocks> } {
  const text = markdownToMrkdwn(markdown);
  return wire.answerId ? { text, blocks: answerBlocks(markdown, controls, wire.answerId) } : { text };
}

export type Respond = (message: { text: string; response_type: 'ephemeral' | 'in_channel' }) => Promise<unknown>;

const errorCode = (e: unknown): string | undefined => (e as { code?: string } | null)?.code;
export const platformError = (e: unknown): string | undefined =>
  errorCode(e) === 'slack_webapi_platform_error' ? (e as { data?: { error?: string } }).data?.error : undefined;
export const failureOf = (e: unknown): string | undefined => platformError(e) ?? errorCode(e);

/** A progress call; a 429 becomes ReplyRateLimited (the core pauses progress for Retry-After). */
async function progress<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    // A stream past its time (about 5 minutes) takes no more text: the core goes on in a new message.
    if (platformError(e) === 'message_not_in_streaming_state') throw new ReplyPartExpired('message_not_in_streaming_state');
    if (errorCode(e) !== 'slack_webapi_rate_limited_error') throw e;
    throw new ReplyRateLimited(Number((e as { retryAfter?: number }).retryAfter ?? 1) * 1000);
  }
}

/** Shared by the parts that adopt a message working() put up: the message exists whatever its first write does. */
abstract class SlackPart implements ReplyPart {
  private pausedUntil = 0;

  constructor(
    protected readonly wire: SlackWire,
    readonly ts: string,
  ) {}

  abstract update(text: string): Promise<void>;
  abstract close(text: string, kind: ReplyKind, options?: { last?: boolean }): Promise<void>;
  abstract remove(): Promise<void>;

  /**
   * The first text of an adopted message. A failure is not the end of the part (the message is
   * there; close() writes the final text), so it is logged, and a 429 holds back later progress.
   */
  async adopt(text: string): Promise<this> {
    try {
      await this.update(text);
    } catch (e) {
      if (e instanceof ReplyRateLimited) this.pausedUntil = Date.now() + e.retryAfterMs;
      this.wire.logger.warn({ err: e instanceof ReplyRateLimited ? 'rate_limited' : failureOf(e) }, 'slack progress write failed');
    }
    return this;
  }

  /** Throws ReplyRateLimited while an earlier 429 still holds, without calling Slack. */
  protected checkPause(): void {
    const left = this.pausedUntil - Date.now();
    if (left > 0) throw new ReplyRateLimited(left);
  }
}

export class StreamPart extends SlackPart {
  /** The text already appended to the stream. */
  private appended: string;
  private readonly task: boolean;

  /** `appended`: text the stream was started with; `task`: it shows the "Thinking…" task, to be marked done. */
  constructor(
    wire: SlackWire,
    ts: string,
    options: { appended?: string; task?: boolean } = {},
  ) {
    super(wire, ts);
    this.appended = options.appended ?? '';
    this.task = options.task ?? false;
  }

  async update(text: string): Promise<void> {
    this.checkPause();
    // Appended text cannot be taken back: a text that does not extend it waits for close().
    if (!text.startsWith(this.appended) || text === this.appended) return;
    const delta = text.slice(this.appended.length);
    await progress(() => this.wire.progressClient.chat.appendStream({ channel: this.wire.channel, ts: this.ts, markdown_text: delta }));
    this.appended = text;
  }

  async close(text: string, kind: ReplyKind, options: { last?: boolean } = {}): Promise<void> {
    const { client, channel } = this.wire;
    const continues = text.startsWith(this.appended);
    const rest = continues ? text.slice(this.appended.length) : '';
    const failed = kind === 'error';
    const chunks = [
      ...(rest ? [{ type: 'markdown_text' as const, text: rest }] : []),
      ...(this.task ? [{ ...THINKING_TASK, title: failed ? 'Failed' : 'Done', status: failed ? ('error' as const) : ('complete' as const) }] : []),
    ];
    let stopped = false;
    try {
      await client.chat.stopStream({ channel, ts: this.ts, ...(chunks.length ? { chunks } : {}) });
      stopped = true;
    } catch (e) {
      this.wire.logger.warn({ err: failureOf(e) }, 'slack chat.stopStream failed; replacing the message');
    }
    // An answer's stream carried a stop button: the final text replaces it with its own controls.
    if (stopped && continues && !this.wire.answerId) return;
    await client.chat.update({ channel, ts: this.ts, ...content(this.wire, text, closingControls(kind, options.last)) });
  }

  async remove(): Promise<void> {
    const { client, channel } = this.wire;
    await client.chat.stopStream({ channel, ts: this.ts }).catch((e: unknown) => this.wire.logger.warn({ err: failureOf(e) }, 'slack chat.stopStream failed'));
    await client.chat.delete({ channel, ts: this.ts });
  }
}

export class UpdatePart extends SlackPart {
  /** What the message shows now, and whether that is a final text (no progress mark). */
  private shown: { text: string; final: boolean };

  constructor(wire: SlackWire, ts: string, shown: { text: string; final: boolean }) {
    super(wire, ts);
    this.shown = shown;
  }

  async update(text: string): Promise<void> {
    this.checkPause();
    if (text === this.shown.text) return;
    const { progressClient, channel } = this.wire;
    await progress(() => progressClient.chat.update({ channel, ts: this.ts, ...content(this.wire, `${text}${PROGRESS_MARK}`, 'stop') }));
    this.shown = { text, final: false };
  }

  /** A line that stands for the reply until its text comes (why it waits, "thinking"), without the progress mark. */
  async placeholder(line: string): Promise<void> {
    if (line === this.shown.text) return;
    const { progressClient, channel } = this.wire;
    await progressClient.chat.update({ channel, ts: this.ts, ...content(this.wire, line, 'stop') });
    this.shown = { text: line, final: false };
  }

  async close(text: string, kind: ReplyKind = 'answer', options: { last?: boolean } = {}): Promise<void> {
    // An answer's message is always written once more: its stop button gives way to its final controls.
    if (text === this.shown.text && this.shown.final && !this.wire.answerId) return;
    await this.wire.client.chat.update({ channel: this.wire.channel, ts: this.ts, ...content(this.wire, text, closingControls(kind, options.last)) });
    this.shown = { text, final: true };
  }

  async remove(): Promise<void> {
    await this.wire.client.chat.delete({ channel: this.wire.channel, ts: this.ts });
  }
}

/**
 * A message an earlier attempt of this reply left (the process died mid-answer): what it shows is
 * unknown, so every write replaces it; a native stream it may still be is stopped first (its
 * appended text cannot be known or taken back).
 */
export class ResumedPart extends UpdatePart {
  private stopped: boolean;

  constructor(wire: SlackWire, ts: string, wasStream: boolean) {
    super(wire, ts, { text: '\u0000unknown', final: false });
    this.stopped = !wasStream;
  }

  override async update(text: string): Promise<void> {
    await this.stopStream();
    await super.update(text);
  }

  override async close(text: string, kind: ReplyKind = 'answer', options: { last?: boolean } = {}): Promise<void> {
    await this.stopStream();
    await super.close(text, kind, options);
  }

  private async stopStream(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // A stream that already stopped (or aged out) refuses; the message is edited either way.
    await this.wire.client.chat
      .stopStream({ channel: this.wire.channel, ts: this.ts })
      .catch((e: unknown) => this.wire.logger.info({ err: failureOf(e) }, 'slack stopStream of an interrupted reply refused'));
  }
}

export class ResponsePart implements ReplyPart {
  constructor(private readonly respond: Respond) {}

  /** Nothing to show until close(): a response_url message cannot be edited. */
  async update(): Promise<void> {}

  async close(text: string): Promise<void> {
    await this.respond({ response_type: 'in_channel', text: markdownToMrkdwn(text) });
  }

  /** Nothing was posted before close(). */
  async remove(): Promise<void> {}
}
