/**
 * The ReplySink for Slack: it only posts, edits, streams and deletes (the core's ReplyStream
 * paces and splits). Before there is text, a thread reply shows the wait and the thinking on the
 * thread's status line (assistant.threads.setStatus); where that is unavailable, working() puts
 * up a placeholder (or a native stream with a "Thinking…" task). A message opens when there is
 * text: a native stream (chat.startStream) when the reply is a thread reply and the workspace
 * allows it (a refusal is remembered), else a message chat.update edits. A stream stops taking
 * text after about 5 minutes: the core rolls the answer over into a new message before that.
 * Answers carry a stop button while they grow and feedback buttons when done (answer-blocks.ts).
 * Private notices go through postEphemeral, or a slash command's response_url; a public
 * indicator is taken down first. Text is Markdown: messages get it as mrkdwn (and in a markdown
 * block, for answers), a stream gets it as is.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../src/logger.js';
import { markdownToMrkdwn } from './mrkdwn.js';
import { content, failureOf, platformError, ResponsePart, ResumedPart, StreamPart, THINKING_TASK, UpdatePart, type Respond, type SlackWire } from './reply-parts.js';
import type { NoticeOptions, ReplyLimits, ReplyPart, ReplySink } from '../../src/ports/reply.js';
import { stopBlock } from './answer-blocks.js';
import type { FeaturePolicy, StreamingPolicy } from './feature-policy.js';
import { ThreadStatus } from './thread-status.js';

export const DEFAULT_MAX_MESSAGE_CHARS = 3500;
/** A stream stops taking text after about 5 minutes: the answer goes on in a new message before that. */
export const STREAM_MAX_AGE_MS = 270_000;
const PLACEHOLDER = ':hourglass_flowing_sand: _Thinking…_';

export interface SlackReplyTarget {
  channel: string;
  /** Thread to answer in; null = top level (a DM). */
  threadTs: string | null;
  /** The user asking: recipient of a channel stream, and of ephemeral answers. */
  userId: string;
  teamId: string;
  isDirect: boolean;
}

/** One message of a reply as an answer job keeps it (to finish it in place after a restart). */
export interface SlackRef {
  kind: 'stream' | 'message';
  ts: string;
}

export interface SlackReplySinkOptions {
  /** Bounded retries (it waits out a short Retry-After): placeholder and final writes. */
  client: WebClient;
  /** Rejects rate-limited calls at once: progress writes. */
  progressClient: WebClient;
  target: SlackReplyTarget;
  streaming: StreamingPolicy;
  /** Whether the workspace shows thread statuses (assistant.threads.setStatus); without it, no status is tried. */
  statuses?: FeaturePolicy;
  /** Workspace key for the policies (the installation key). */
  workspace: string;
  /** The answer this reply gives: its messages carry the stop and feedback buttons. */
  answerId?: string;
  logger: Logger;
  /** Slash commands: a response_url poster, for private notices and where the bot is not in the channel. */
  respond?: Respond;
  /** Slash commands show nothing until there is text (the ack already told the user). */
  lazy?: boolean;
  /** @defaultValue 3500 */
  maxMessageChars?: number;
  /** @defaultValue 1000 */
  minUpdateIntervalMs?: number;
  /** @defaultValue STREAM_MAX_AGE_MS */
  maxStreamAgeMs?: number;
  /** Messages an earlier attempt of this reply posted: reused, not posted again. */
  refs?: SlackRef[];
  /** Told whenever the reply's list of messages changes. */
  record?: (refs: SlackRef[]) => void;
}

export class SlackReplySink implements ReplySink {
  readonly limits: ReplyLimits;
  private readonly wire: SlackWire;
  /** What working() put up, until part 0 or a notice takes it over. */
  private indicator: StreamPart | UpdatePart | null = null;
  /** The first message's ts: the thread later parts go into when the reply is top level. */
  private firstTs: string | undefined;
  /** The bot cannot post in this channel (a slash command where it is not a member): response_url only. */
  private channelClosed = false;
  /** The reply's messages so far, in order (what an answer job records). */
  private readonly refs: SlackRef[];
  /** The thread's status line and title (thread replies only). */
  private readonly thread: ThreadStatus | null;

  constructor(private readonly o: SlackReplySinkOptions) {
    this.limits = {
      maxChars: o.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS,
      minUpdateIntervalMs: o.minUpdateIntervalMs ?? 1000,
      maxPartAgeMs: o.maxStreamAgeMs ?? STREAM_MAX_AGE_MS,
    };
    this.wire = { client: o.client, progressClient: o.progressClient, channel: o.target.channel, logger: o.logger, ...(o.answerId ? { answerId: o.answerId } : {}) };
    this.refs = [...(o.refs ?? [])];
    this.firstTs = this.refs[0]?.ts;
    const t = o.target;
    this.thread =
      t.threadTs && o.statuses && !o.lazy ? new ThreadStatus(o.client, { channel: t.channel, threadTs: t.threadTs, workspace: o.workspace }, o.statuses, o.logger) : null;
  }

  async status(text: string | null): Promise<boolean> {
    // Where working() put up a placeholder message, the status is shown on it (a wait, "thinking").
    const placeholder = this.indicator;
    if (placeholder instanceof UpdatePart && !(placeholder instanceof ResumedPart)) {
      if (text === null) return false;
      await placeholder.placeholder(`:hourglass_flowing_sand: _${text}_`);
      return true;
    }
    // A message already stands for the reply (resumed, or a stream): no status then.
    if (!this.thread || this.indicator || this.refs.length > 0) return false;
    return this.thread.set(text);
  }

  async title(question: string): Promise<void> {
    // Only assistant threads (a DM's threads) have titles.
    if (!this.thread || !this.o.target.isDirect) return;
    await this.thread.title(question);
  }

  /** The first message's ts, once posted. */
  get messageTs(): string | undefined {
    return this.firstTs;
  }

  async working(): Promise<void> {
    // A resumed reply: its first message is already there, whatever state it was left in.
    const earlier = this.refs[0];
    if (earlier && !this.indicator) return void (this.indicator = this.resumed(earlier));
    if (this.o.lazy || this.indicator || this.firstTs) return;
    const t = this.o.target;
    if (t.threadTs && this.o.streaming.allowed(this.o.workspace)) {
      try {
        const res = await this.o.client.chat.startStream({
          channel: t.channel,
          thread_ts: t.threadTs,
          ...(t.isDirect ? {} : { recipient_user_id: t.userId, recipient_team_id: t.teamId }),
          chunks: [{ ...THINKING_TASK, status: 'in_progress' }, ...this.stopChunk()],
        });
        if (res.ts) return void this.putUp(new StreamPart(this.wire, res.ts, { task: true }), 'stream');
      } catch (e) {
        // A refusal (not_allowed, unknown_method, missing_scope...) holds for the workspace.
        if (platformError(e)) this.o.streaming.refuse(this.o.workspace);
        this.o.logger.info({ err: failureOf(e) }, 'slack native streaming unavailable; using chat.update');
      }
    }
    try {
      const ts = await this.post(PLACEHOLDER, 0, this.o.answerId ? [stopBlock(this.o.answerId)] : undefined);
      this.putUp(new UpdatePart(this.wire, ts, { text: PLACEHOLDER, final: true }), 'message');
    } catch (e) {
      // A slash command in a channel the bot is not in: only response_url reaches it.
      if (!this.o.respond) throw e;
      this.channelClosed = true;
    }
  }

  async open(index: number, text: string): Promise<ReplyPart> {
    this.thread?.done();
    const earlier = this.refs[index];
    const adopted = index === 0 ? (this.takeIndicator() ?? (earlier ? this.resumed(earlier) : null)) : earlier ? this.resumed(earlier) : null;
    if (adopted) return adopted.adopt(text);
    if (this.channelClosed) return new ResponsePart(this.o.respond!);
    const stream = await this.startStream(index, text);
    if (stream) return stream;
    try {
      const { text: mrkdwn, blocks } = content(this.wire, text, 'stop');
      const ts = await this.post(mrkdwn, index, blocks);
      return new UpdatePart(this.wire, ts, { text, final: true });
    } catch (e) {
      if (!this.o.respond) throw e;
      this.channelClosed = true;
      return new ResponsePart(this.o.respond);
    }
  }

  /** A native stream that starts with `text` (a thread reply, where the workspace allows it); null otherwise. */
  private async startStream(index: number, text: string): Promise<StreamPart | null> {
    const t = this.o.target;
    if (!t.threadTs || this.o.lazy || !this.o.streaming.allowed(this.o.workspace)) return null;
    try {
      const res = await this.o.client.chat.startStream({
        channel: t.channel,
        thread_ts: t.threadTs,
        ...(t.isDirect ? {} : { recipient_user_id: t.userId, recipient_team_id: t.teamId }),
        chunks: [...this.stopChunk(), { type: 'markdown_text', text }],
      });
      if (!res.ts) return null;
      this.firstTs ??= res.ts;
      this.remember(index, { kind: 'stream', ts: res.ts });
      return new StreamPart(this.wire, res.ts, { appended: text });
    } catch (e) {
      if (platformError(e)) this.o.streaming.refuse(this.o.workspace);
      this.o.logger.info({ err: failureOf(e) }, 'slack native streaming unavailable; using chat.update');
      return null;
    }
  }

  /** A stream of an answer starts with its stop button (the final text replaces it with the feedback buttons). */
  private stopChunk() {
    return this.o.answerId ? [{ type: 'blocks' as const, blocks: [stopBlock(this.o.answerId)] }] : [];
  }

  async notice(text: string, options: NoticeOptions): Promise<void> {
    this.thread?.done();
    if (options.private) return this.noticePrivately(text);
    const indicator = this.takeIndicator() ?? (this.refs[0] ? this.resumed(this.refs[0]) : null);
    if (indicator) return indicator.close(text, options.kind);
    if (!this.channelClosed) {
      try {
        await this.post(markdownToMrkdwn(text), this.firstTs ? 1 : 0);
        return;
      } catch (e) {
        if (!this.o.respond) throw e;
        this.channelClosed = true;
      }
    }
    await this.o.respond!({ response_type: 'in_channel', text: markdownToMrkdwn(text) });
  }

  private async noticePrivately(text: string): Promise<void> {
    const t = this.o.target;
    // A public indicator was put up before the reply turned out private: take it down.
    await this.takeIndicator()
      ?.remove()
      .catch((e: unknown) => this.o.logger.warn({ err: failureOf(e) }, 'slack could not take down the working indicator'));
    const mrkdwn = markdownToMrkdwn(text);
    if (this.o.respond) {
      await this.o.respond({ response_type: 'ephemeral', text: mrkdwn });
      return;
    }
    await this.o.client.chat.postEphemeral({ channel: t.channel, user: t.userId, text: mrkdwn, ...(t.threadTs ? { thread_ts: t.threadTs } : {}) });
  }

  /** Takes down messages an earlier attempt left past the `parts` this reply ended with. */
  async trim(parts: number): Promise<void> {
    const extra = this.refs.splice(parts);
    if (extra.length === 0) return;
    for (const r of extra) {
      await this.o.client.chat.delete({ channel: this.o.target.channel, ts: r.ts }).catch((e: unknown) => {
        this.o.logger.warn({ err: failureOf(e) }, 'slack could not delete a message left by an interrupted reply');
      });
    }
    this.o.record?.([...this.refs]);
  }

  private putUp(indicator: StreamPart | UpdatePart, kind: SlackRef['kind']): void {
    this.indicator = indicator;
    this.firstTs = indicator.ts;
    this.remember(0, { kind, ts: indicator.ts });
  }

  private resumed(ref: SlackRef): UpdatePart {
    return new ResumedPart(this.wire, ref.ts, ref.kind === 'stream');
  }

  private remember(index: number, ref: SlackRef): void {
    this.refs[index] = ref;
    this.o.record?.([...this.refs]);
  }

  private takeIndicator(): StreamPart | UpdatePart | null {
    const indicator = this.indicator;
    this.indicator = null;
    return indicator;
  }

  /** Posts message `index` of the reply (already mrkdwn): in the thread, or under the first message at top level. */
  private async post(text: string, index: number, blocks?: ReturnType<typeof stopBlock>[]): Promise<string> {
    const t = this.o.target;
    const thread = t.threadTs ?? (index > 0 ? this.firstTs : undefined);
    const res = await this.o.client.chat.postMessage({ channel: t.channel, text, ...(blocks?.length ? { blocks } : {}), ...(thread ? { thread_ts: thread } : {}) });
    if (!res.ts) throw new Error('slack chat.postMessage returned no ts');
    this.firstTs ??= res.ts;
    this.remember(index, { kind: 'message', ts: res.ts });
    return res.ts;
  }
}
