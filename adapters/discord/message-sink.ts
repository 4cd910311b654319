/**
 * The reply to a message that mentioned (or replied to) the bot: a message replying to it that
 * first shows the status ("⏳ Thinking…", with Stop) or a `…` placeholder, then the answer as it
 * grows, then plain channel messages for the rest of a long one. Works from ids alone and
 * records every message it posts, so whichever instance resumes the answer finishes it in place.
 */
import type { REST } from 'discord.js';
import type { NoticeOptions, ReplyPart, ReplySink } from '../../src/ports/reply.js';
import { AnswerButtons, type ComponentRows } from './buttons.js';
import {
  channelMessage, DISCORD_LIMITS, DiscordPart, guarded, PLACEHOLDER, postChannelMessage, RefList, rethrow, statusLine,
  type DiscordRef, type PostedMessage, type Shown, type SinkMemory,
} from './reply-parts.js';

/** The message a mention's reply answers. */
export interface MessageTarget {
  channelId: string;
  messageId: string;
}

export class MessageReplySink implements ReplySink {
  readonly limits = DISCORD_LIMITS;
  /** The first message, posted before there was text (placeholder or status), until a part or notice takes it. */
  private placeholder: { message: PostedMessage; shown: Shown } | null = null;
  /** A part or notice took the first message: a status no longer goes there. */
  private started = false;
  private readonly list: RefList;
  private readonly buttons: AnswerButtons;

  constructor(
    private readonly rest: REST,
    private readonly target: MessageTarget,
    memory: SinkMemory = {},
    /** The answer the reply belongs to (its job id): its messages carry the answer buttons. */
    answerId?: string,
  ) {
    this.list = new RefList(memory);
    this.buttons = new AnswerButtons(answerId);
  }

  working(): Promise<void> {
    return guarded(async () => {
      if (this.list.refs.length > 0 || this.placeholder) return;
      this.placeholder = { message: await this.post(PLACEHOLDER, 0), shown: { text: PLACEHOLDER, components: [] } };
    });
  }

  /**
   * The status goes on the message that will hold the answer (posted now if need be), with Stop.
   * Not once the answer began, nor on a resumed reply (its message holds the earlier attempt's text).
   */
  status(text: string | null): Promise<boolean> {
    return guarded(async () => {
      if (this.started || (this.list.refs.length > 0 && !this.placeholder)) return false;
      if (text === null && !this.placeholder) return true;
      const components = text === null ? [] : this.buttons.live();
      const line = text === null ? PLACEHOLDER : statusLine(text);
      if (this.placeholder) await this.placeholder.message.edit(line, components);
      else this.placeholder = { message: await this.post(line, 0, components), shown: { text: line, components } };
      this.placeholder.shown = { text: line, components };
      return true;
    });
  }

  open(index: number, text: string): Promise<ReplyPart> {
    return guarded(async () => {
      const earlier = this.list.refs[index];
      const first = index === 0 ? this.takeFirst() : null;
      const existing = first ?? (earlier ? { message: this.messageAt(earlier), shown: { text: null, components: null } } : null);
      if (existing) {
        const part = new DiscordPart(existing.message, existing.shown, rethrow, this.buttons);
        await part.update(text);
        return part;
      }
      const components = this.buttons.live();
      return new DiscordPart(await this.post(text, index, components), { text, components }, rethrow, this.buttons);
    });
  }

  /** A reply to a message is public: Discord has no private reply here. */
  notice(text: string, _options: NoticeOptions): Promise<void> {
    return guarded(async () => {
      const first = this.takeFirst() ?? (this.list.refs[0] ? { message: this.messageAt(this.list.refs[0]), shown: { text: null, components: null } } : null);
      if (first) await new DiscordPart(first.message, first.shown, rethrow, this.buttons).close(text, 'notice');
      else await this.post(text, 0);
    });
  }

  /** The first message as posted before there was text, if any; from now on it belongs to the answer. */
  private takeFirst(): { message: PostedMessage; shown: Shown } | null {
    this.started = true;
    const placeholder = this.placeholder;
    this.placeholder = null;
    return placeholder;
  }

  private messageAt(ref: DiscordRef): PostedMessage {
    return channelMessage(this.rest, this.target.channelId, ref.kind === 'original' ? '' : ref.id);
  }

  /** The first message of the reply replies to the question; later ones are plain. */
  private async post(text: string, index: number, components: ComponentRows = []): Promise<PostedMessage> {
    const posted = await postChannelMessage(this.rest, this.target.channelId, text, { components, ...(index === 0 ? { replyTo: this.target.messageId } : {}) });
    this.list.set(index, { kind: 'channel', id: posted.id });
    return posted;
  }
}
