/**
 * The engine's ReplySink for Slack. A reply is one message (plus thread replies when it is long):
 * - native streaming (chat.startStream/appendStream/stopStream) when it is a thread reply and the
 *   workspace allows it; a workspace that refuses is remembered and gets the fallback after that;
 * - otherwise a placeholder (chat.postMessage) edited with chat.update at the engine's cadence.
 * Progress calls go through a client that rejects rate-limited calls at once: after a 429 the
 * progress edits are skipped until Retry-After has passed, and the final answer goes ahead
 * through the client with bounded retries.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../src/logger.js';
import { markdownToMrkdwn, splitMessage } from './mrkdwn.js';
import type { FinishOptions, ReplySink } from '../../src/ports/reply.js';

export const DEFAULT_MAX_MESSAGE_CHARS = 3500;
const PLACEHOLDER = ':hourglass_flowing_sand: _Thinking…_';
const THINKING_TASK = { type: 'task_update' as const, id: 'answer', title: 'Thinking…' };

/** Remembers, per workspace, that native streaming was refused so later replies skip the try. */
export class StreamingPolicy {
  private readonly refused = new Map<string, number>();
  constructor(
    private readonly enabled = true,
    private readonly retryAfterMs = 60 * 60_000,
  ) {}
  allowed(workspace: string): boolean {
    if (!this.enabled) return false;
    const until = this.refused.get(workspace);
    return until === undefined || until < Date.now();
  }
  refuse(workspace: string): void {
    this.refused.set(workspace, Date.now() + this.retryAfterMs);
  }
}

export interface SlackReplyTarget {
  channel: string;
  /** Thread to answer in; null = top level (a DM). */
  threadTs: string | null;
  /** The user asking: recipient of a channel stream, and of ephemeral answers. */
  userId: string;
  teamId: string;
  isDirect: boolean;
}

export interface SlackReplySinkOptions {
  /** Bounded retries (it waits out a short Retry-After): placeholder and final answer. */
  client: WebClient;
  /** Rejects rate-limited calls at once: progress edits. */
  progressClient: WebClient;
  target: SlackReplyTarget;
  streaming: StreamingPolicy;
  /** Workspace key for StreamingPolicy (the installation key). */
  workspace: string;
  logger: Logger;
  /** Slash commands: a response_url poster, used for ephemeral answers and where the bot is not in the channel. */
  respond?: (message: { text: string; response_type: 'ephemeral' | 'in_channel' }) => Promise<unknown>;
  /** Slash commands post nothing until there is text (the ack already told the user). */
  lazy?: boolean;
  maxMessageChars?: number;
  minUpdateIntervalMs?: number;
}

type Mode = 'idle' | 'stream' | 'update';

const errorCode = (e: unknown): string | undefined => (e as { code?: string } | null)?.code;
const platformError = (e: unknown): string | undefined =>
  errorCode(e) === 'slack_webapi_platform_error' ? (e as { data?: { error?: string } }).data?.error : undefined;
const retryAfterSec = (e: unknown): number => Number((e as { retryAfter?: number }).retryAfter ?? 1);

export class SlackReplySink implements ReplySink {
  readonly minUpdateIntervalMs: number;
  private readonly limit: number;
  private mode: Mode = 'idle';
  private ts: string | undefined;
  /** Stream mode: the prefix of the answer already appended to the stream. */
  private streamed = '';
  private progressPausedUntil = 0;
  private progressBroken = false;
  private finished = false;

  constructor(private readonly o: SlackReplySinkOptions) {
    this.minUpdateIntervalMs = o.minUpdateIntervalMs ?? 1000;
    this.limit = o.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS;
  }

  /** The first message's ts, once posted. */
  get messageTs(): string | undefined {
    return this.ts;
  }

  async start(): Promise<void> {
    if (this.o.lazy || this.mode !== 'idle') return;
    const t = this.o.target;
    if (t.threadTs && this.o.streaming.allowed(this.o.workspace)) {
      try {
        const res = await this.o.client.chat.startStream({
          channel: t.channel,
          thread_ts: t.threadTs,
          ...(t.isDirect ? {} : { recipient_user_id: t.userId, recipient_team_id: t.teamId }),
          chunks: [{ ...THINKING_TASK, status: 'in_progress' }],
        });
        if (res.ts) {
          this.ts = res.ts;
          this.mode = 'stream';
          return;
        }
      } catch (e) {
        const code = platformError(e);
        // A refusal (not_allowed, unknown_method, missing_scope...) holds for the workspace.
        if (code) this.o.streaming.refuse(this.o.workspace);
        this.o.logger.info({ err: code ?? errorCode(e) }, 'slack native streaming unavailable; using chat.update');
      }
    }
    await this.postPlaceholder(PLACEHOLDER);
  }

  async update(textSoFar: string): Promise<void> {
    if (this.finished || this.progressBroken || !textSoFar) return;
    if (Date.now() < this.progressPausedUntil) return;
    if (this.mode === 'idle') {
      // Lazy sinks post the first message with the first text.
      await this.postPlaceholder(markdownToMrkdwn(splitMessage(textSoFar, this.limit)[0] ?? ''));
      return;
    }
    try {
      if (this.mode === 'stream') await this.appendStream(textSoFar);
      else await this.editProgress(textSoFar);
    } catch (e) {
      if (errorCode(e) === 'slack_webapi_rate_limited_error') {
        this.progressPausedUntil = Date.now() + retryAfterSec(e) * 1000;
        this.o.logger.warn({ retryAfter: retryAfterSec(e) }, 'slack rate-limited a progress edit; skipping edits');
      } else {
        this.progressBroken = true;
        this.o.logger.warn({ err: platformError(e) ?? errorCode(e) }, 'slack progress edit failed; final answer only');
      }
    }
  }

  async finish(text: string, options: FinishOptions = {}): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const body = text.trim() ? text : '_(no answer)_';
    // Answers and the core's own notices are both Markdown.
    const render = markdownToMrkdwn;
    if (options.ephemeral) return this.finishEphemeral(render(body));
    const parts =
      this.mode === 'stream' && body.startsWith(this.streamed)
        ? splitMessage(body, this.limit, this.streamed.length)
        : splitMessage(body, this.limit);
    const first = parts[0] ?? body;
    if (this.mode === 'stream') await this.stopStream(first, options.kind === 'error', render);
    else if (this.mode === 'update' && this.ts) await this.o.client.chat.update({ channel: this.o.target.channel, ts: this.ts, text: render(first) });
    else await this.postFirst(render(first));
    for (const part of parts.slice(1)) {
      await this.o.client.chat.postMessage({ channel: this.o.target.channel, thread_ts: this.o.target.threadTs ?? this.ts, text: render(part) });
    }
  }

  private async postPlaceholder(text: string): Promise<void> {
    const t = this.o.target;
    try {
      const res = await this.o.client.chat.postMessage({ channel: t.channel, text, ...(t.threadTs ? { thread_ts: t.threadTs } : {}) });
      this.ts = res.ts;
      this.mode = 'update';
    } catch (e) {
      // A slash command in a channel the bot is not in: only response_url reaches it.
      if (!this.o.respond) throw e;
      this.progressBroken = true;
    }
  }

  /** `text` is already rendered for Slack. */
  private async postFirst(text: string): Promise<void> {
    const t = this.o.target;
    try {
      const res = await this.o.client.chat.postMessage({ channel: t.channel, text, ...(t.threadTs ? { thread_ts: t.threadTs } : {}) });
      this.ts = res.ts;
    } catch (e) {
      if (!this.o.respond) throw e;
      await this.o.respond({ response_type: 'in_channel', text });
    }
  }

  private async editProgress(textSoFar: string): Promise<void> {
    if (!this.ts) return;
    const [first] = splitMessage(textSoFar, this.limit);
    await this.o.progressClient.chat.update({ channel: this.o.target.channel, ts: this.ts, text: `${markdownToMrkdwn(first ?? '')} …` });
  }

  private async appendStream(textSoFar: string): Promise<void> {
    if (!this.ts || !textSoFar.startsWith(this.streamed)) return;
    // Keep room under the limit so the final cut can still land on a word break.
    const target = textSoFar.slice(0, Math.floor(this.limit * 0.9));
    const delta = target.slice(this.streamed.length);
    if (!delta) return;
    await this.o.progressClient.chat.appendStream({ channel: this.o.target.channel, ts: this.ts, markdown_text: delta });
    this.streamed = target;
  }

  private async stopStream(first: string, failed: boolean, render: (s: string) => string): Promise<void> {
    const channel = this.o.target.channel;
    const ts = this.ts!;
    const continues = first.startsWith(this.streamed);
    const rest = continues ? first.slice(this.streamed.length) : '';
    try {
      await this.o.client.chat.stopStream({
        channel,
        ts,
        chunks: [
          ...(rest ? [{ type: 'markdown_text' as const, text: rest }] : []),
          { ...THINKING_TASK, title: failed ? 'Failed' : 'Done', status: failed ? 'error' : 'complete' },
        ],
      });
      if (continues) return;
    } catch (e) {
      this.o.logger.warn({ err: platformError(e) ?? errorCode(e) }, 'slack chat.stopStream failed; replacing the message');
    }
    // The answer does not extend what was streamed (e.g. an error after partial text): replace it.
    await this.o.client.chat.update({ channel, ts, text: render(first) });
  }

  /** `text` is already rendered for Slack. */
  private async finishEphemeral(text: string): Promise<void> {
    const t = this.o.target;
    const mrkdwn = splitMessage(text, this.limit * 2)[0] ?? text;
    // A public placeholder was posted before the answer turned out private: take it down.
    if (this.ts) {
      if (this.mode === 'stream') await this.o.client.chat.stopStream({ channel: t.channel, ts: this.ts }).catch(() => undefined);
      await this.o.client.chat.delete({ channel: t.channel, ts: this.ts }).catch(() => undefined);
    }
    if (this.o.respond) {
      await this.o.respond({ response_type: 'ephemeral', text: mrkdwn });
      return;
    }
    await this.o.client.chat.postEphemeral({ channel: t.channel, user: t.userId, text: mrkdwn, ...(t.threadTs ? { thread_ts: t.threadTs } : {}) });
  }
}
