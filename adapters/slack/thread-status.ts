/**
 * The assistant thread's status line ("<bot> is thinking…") and title, for one reply. Slack
 * clears a status two minutes after it was set if no message came, so a wait that lasts is
 * shown again before then; posting in the thread clears it, so it stops once text is out.
 * A workspace that refuses the calls (an app without the scope) is remembered and gets the
 * working indicator instead.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../src/logger.js';
import { failureOf, platformError } from './reply-parts.js';
import type { FeaturePolicy } from './feature-policy.js';

/** Shown again this often while it lasts (Slack drops it after 2 minutes without a message). */
const REFRESH_MS = 100_000;
/** A wait longer than this is not refreshed any more (a job that was abandoned must not leave a timer). */
const MAX_REFRESHES = 20;
/** Slack's thread titles are short; a question is cut at a word. */
const TITLE_MAX = 60;

export interface ThreadStatusTarget {
  channel: string;
  threadTs: string;
  workspace: string;
}

export class ThreadStatus {
  private timer: NodeJS.Timeout | null = null;
  private shown = false;

  constructor(
    private readonly client: WebClient,
    private readonly target: ThreadStatusTarget,
    private readonly policy: FeaturePolicy,
    private readonly logger: Logger,
  ) {}

  /** Shows (or, with null, clears) the status; false when this workspace cannot show one. */
  async set(text: string | null): Promise<boolean> {
    this.stopRefresh();
    if (text === null && !this.shown) return true;
    if (!this.policy.allowed(this.target.workspace)) return false;
    try {
      await this.send(text);
    } catch (e) {
      if (platformError(e) && text !== null) this.policy.refuse(this.target.workspace);
      this.logger.info({ err: failureOf(e) }, 'slack thread status unavailable');
      return false;
    }
    this.shown = text !== null;
    if (text !== null) this.refresh(text, MAX_REFRESHES);
    return true;
  }

  /** Text is out (Slack clears the status itself when the bot posts in the thread). */
  done(): void {
    this.stopRefresh();
    this.shown = false;
  }

  async title(question: string): Promise<void> {
    const t = this.target;
    await this.client.assistant.threads.setTitle({ channel_id: t.channel, thread_ts: t.threadTs, title: titleOf(question) });
  }

  private async send(text: string | null): Promise<void> {
    const t = this.target;
    await this.client.assistant.threads.setStatus({
      channel_id: t.channel,
      thread_ts: t.threadTs,
      status: text === null ? '' : statusLine(text),
      ...(text === null ? {} : { loading_messages: [text] }),
    });
  }

  private refresh(text: string, left: number): void {
    if (left <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.send(text)
        .then(() => this.refresh(text, left - 1))
        .catch((e: unknown) => this.logger.info({ err: failureOf(e) }, 'slack thread status refresh failed'));
    }, REFRESH_MS);
    this.timer.unref();
  }

  private stopRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Slack shows the status after the bot's name: "Thinking…" reads "<bot> is thinking…". */
export function statusLine(text: string): string {
  return `is ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
}

export function titleOf(question: string): string {
  const one = question.replace(/\s+/g, ' ').trim();
  if (one.length <= TITLE_MAX) return one;
  const cut = one.slice(0, TITLE_MAX - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > TITLE_MAX / 2 ? cut.slice(0, space) : cut}…`;
}
