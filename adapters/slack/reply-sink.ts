/**
 * The ReplySink for Slack: it only posts, edits, streams and deletes (the core's ReplyStream
 * paces and splits). working() starts a native stream (chat.startStream) when the reply is a
 * thread reply and the workspace allows it (a workspace that refuses is remembered and gets the
 * fallback after that), else posts a placeholder that chat.update edits; part 0 takes it over.
 * Later parts are thread replies. Private notices go through postEphemeral, or a slash command's
 * response_url; a public indicator is taken down first. Text is Markdown: chat.update and
 * postMessage get it as mrkdwn, a stream gets it as is.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../src/logger.js';
import { markdownToMrkdwn } from './mrkdwn.js';
import { failureOf, platformError, ResponsePart, ResumedPart, StreamPart, THINKING_TASK, UpdatePart, type Respond, type SlackWire } from './reply-parts.js';
import type { NoticeOptions, ReplyLimits, ReplyPart, ReplySink } from '../../src/ports/reply.js';

export const DEFAULT_MAX_MESSAGE_CHARS = 3500;
const PLACEHOLDER = ':hourglass_flowing_sand: _Thinking…_';

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
  /** Workspace key for StreamingPolicy (the installation key). */
  workspace: string;
  logger: Logger;
  /** Slash commands: a response_url poster, for private notices and where the bot is not in the channel. */
  respond?: Respond;
  /** Slash commands show nothing until there is text (the ack already told the user). */
  lazy?: boolean;
  /** @defaultValue 3500 */
  maxMessageChars?: number;
  /** @defaultValue 1000 */
  minUpdateIntervalMs?: number;
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

  constructor(private readonly o: SlackReplySinkOptions) {
    this.limits = { maxChars: o.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS, minUpdateIntervalMs: o.minUpdateIntervalMs ?? 1000 };
    this.wire = { client: o.client, progressClient: o.progressClient, channel: o.target.channel, logger: o.logger };
    this.refs = [...(o.refs ?? [])];
    this.firstTs = this.refs[0]?.ts;
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
          chunks: [{ ...THINKING_TASK, status: 'in_progress' }],
        });
        if (res.ts) return void this.putUp(new StreamPart(this.wire, res.ts), 'stream');
      } catch (e) {
        // A refusal (not_allowed, unknown_method, missing_scope...) holds for the workspace.
        if (platformError(e)) this.o.streaming.refuse(this.o.workspace);
        this.o.logger.info({ err: failureOf(e) }, 'slack native streaming unavailable; using chat.update');
      }
    }
    try {
      const ts = await this.post(PLACEHOLDER, 0);
      this.putUp(new UpdatePart(this.wire, ts, { text: PLACEHOLDER, final: true }), 'message');
    } catch (e) {
      // A slash command in a channel the bot is not in: only response_url reaches it.
      if (!this.o.respond) throw e;
      this.channelClosed = true;
    }
  }

  async open(index: number, text: string): Promise<ReplyPart> {
    const earlier = this.refs[index];
    const adopted = index === 0 ? (this.takeIndicator() ?? (earlier ? this.resumed(earlier) : null)) : earlier ? this.resumed(earlier) : null;
    if (adopted) return adopted.adopt(text);
    if (this.channelClosed) return new ResponsePart(this.o.respond!);
    try {
      const ts = await this.post(markdownToMrkdwn(text), index);
      return new UpdatePart(this.wire, ts, { text, final: true });
    } catch (e) {
      if (!this.o.respond) throw e;
      this.channelClosed = true;
      return new ResponsePart(this.o.respond);
    }
  }

  async notice(text: string, options: NoticeOptions): Promise<void> {
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
  private async post(text: string, index: number): Promise<string> {
    const t = this.o.target;
    const thread = t.threadTs ?? (index > 0 ? this.firstTs : undefined);
    const res = await this.o.client.chat.postMessage({ channel: t.channel, text, ...(thread ? { thread_ts: thread } : {}) });
    if (!res.ts) throw new Error('slack chat.postMessage returned no ts');
    this.firstTs ??= res.ts;
    this.remember(index, { kind: 'message', ts: res.ts });
    return res.ts;
  }
}
