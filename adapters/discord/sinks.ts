/**
 * ReplySinks for Discord; they only post, edit and delete (the core's ReplyStream paces and
 * splits). An interaction reply (here): the adapter defers at once, a status ("Waiting for a free
 * slot…") shows on the deferred reply, part 0 and the first notice edit it, later messages are
 * follow-ups, and once the 15-minute token is (nearly) gone a public reply goes on in the
 * channel; a private one never does. A reply to a message: message-sink.ts.
 *
 * Both work from plain data (ids, the interaction token) rather than discord.js objects, and
 * report every message they post as a reference: an answer job keeps them, so a reply begun
 * before a crash is finished in place by whichever instance resumes it. Given the answer's id,
 * the message that grows carries a Stop button and the one that ends the answer the feedback
 * buttons (buttons.ts).
 */
import { DiscordAPIError, MessageFlags, Routes, type REST } from 'discord.js';
import type { NoticeOptions, ReplyPart, ReplySink } from '../../src/ports/reply.js';
import { AnswerButtons, type ComponentRows } from './buttons.js';
import {
  contentOf, channelMessage, DISCORD_LIMITS, DiscordPart, guarded, NO_PINGS, PLACEHOLDER, postChannelMessage, RefList, statusLine,
  type DiscordRef, type PostedMessage, type SinkMemory,
} from './reply-parts.js';

export { describe, DiscordReplyError, DISCORD_LIMITS, DISCORD_UPDATE_INTERVAL_MS, type DiscordRef, type SinkMemory } from './reply-parts.js';
export { MessageReplySink, type MessageTarget } from './message-sink.js';

/** An interaction token lives 15 minutes; stop using it a little before. */
export const INTERACTION_TOKEN_MS = 15 * 60_000;
const TOKEN_MARGIN_MS = 30_000;

/** The interaction a reply answers, as plain data (what an answer job stores). */
export interface InteractionTarget {
  applicationId: string;
  /** The interaction token: a credential, sealed at rest by the job store. */
  token: string;
  /** The reply was deferred as ephemeral (only the caller sees it). */
  ephemeral: boolean;
  /** The channel the command was used in (the fallback after the token expires). */
  channelId: string;
  /** When Discord created the interaction (its token lives 15 minutes from then). */
  createdTimestamp: number;
}

/** Discord's answers for an interaction token that is gone. */
function isExpiredToken(err: unknown): boolean {
  return err instanceof DiscordAPIError && (err.code === 50027 || err.code === 10015 || err.code === 10062);
}

class TokenExpired extends Error {
  constructor() {
    super('interaction token about to expire');
  }
}

/**
 * Reply to a slash command. The adapter defers before anything else (Discord allows 3 s), so
 * working() has nothing left to do.
 */
export class InteractionReplySink implements ReplySink {
  readonly limits = DISCORD_LIMITS;
  /** Something was written (or tried): the adapter leaves the reply alone. */
  used = false;
  /** The deferred reply: still "thinking", showing a status, taken by a part or notice, or deleted. */
  private original: 'deferred' | 'status' | 'taken' | 'deleted';
  /** What a status put on the deferred reply. */
  private statusShown: { text: string; components: ComponentRows } | null = null;
  private expired = false;
  private readonly list: RefList;
  private readonly buttons: AnswerButtons;

  constructor(
    private readonly rest: REST,
    private readonly target: InteractionTarget,
    memory: SinkMemory = {},
    private readonly now: () => number = Date.now,
    /** The answer the reply belongs to (its job id): its messages carry the answer buttons. */
    answerId?: string,
  ) {
    this.list = new RefList(memory);
    this.buttons = new AnswerButtons(answerId);
    // A resumed reply already wrote its first message: edit it, do not post another.
    this.original = this.list.refs.length > 0 ? 'taken' : 'deferred';
  }

  async working(): Promise<void> {}

  /**
   * Shown on the deferred reply (with Stop, so a wait can be cancelled). Not once a part or notice
   * took it, nor on a resumed reply (its first message holds the earlier attempt's text).
   */
  status(text: string | null): Promise<boolean> {
    return guarded(async () => {
      if (this.original !== 'deferred' && this.original !== 'status') return false;
      if (text === null && this.original === 'deferred') return true;
      const shown = text === null ? { text: PLACEHOLDER, components: [] } : { text: statusLine(text), components: this.buttons.live() };
      try {
        await this.messageAt({ kind: 'original' }).edit(shown.text, shown.components);
      } catch (err) {
        if (!(err instanceof TokenExpired) && !isExpiredToken(err)) throw err;
        this.expired = true;
        return false;
      }
      this.original = 'status';
      this.statusShown = shown;
      return true;
    });
  }

  open(index: number, text: string): Promise<ReplyPart> {
    this.used = true;
    return guarded(async () => {
      const recover = (content: string, components: ComponentRows, err: unknown) => this.recover(index, content, components, err);
      const earlier = this.list.refs[index];
      if (earlier) {
        const part = new DiscordPart(this.messageAt(earlier), { text: null, components: null }, recover, this.buttons);
        await part.update(text);
        return part;
      }
      if (index === 0 && (this.original === 'deferred' || this.original === 'status')) {
        const shown = this.original === 'status' && this.statusShown ? this.statusShown : { text: '', components: [] };
        this.original = 'taken';
        this.list.set(0, { kind: 'original' });
        const part = new DiscordPart(this.messageAt({ kind: 'original' }), shown, recover, this.buttons);
        await part.update(text);
        return part;
      }
      const components = this.buttons.live();
      const { ref, message } = await this.post(text, this.target.ephemeral, components);
      this.list.set(index, ref);
      return new DiscordPart(message, { text, components }, recover, this.buttons);
    });
  }

  notice(text: string, options: NoticeOptions): Promise<void> {
    this.used = true;
    return guarded(async () => {
      const ephemeral = options.private || this.target.ephemeral;
      const earlier = this.list.refs[0];
      if (earlier && !options.private) {
        const content = contentOf(text);
        return void (await this.messageAt(earlier).edit(content, []).catch((err: unknown) => this.recover(0, content, [], err)));
      }
      if (this.original !== 'deferred' && this.original !== 'status') return void (await this.post(text, ephemeral));
      if (ephemeral && !this.target.ephemeral) {
        // A public deferral: a follow-up sent while it still "thinks" takes its place and its
        // visibility. Resolve it (a status already did), send the private follow-up, then take the public reply down.
        const thinking = this.original === 'deferred';
        this.original = 'deleted';
        if (thinking) await this.messageAt({ kind: 'original' }).edit(PLACEHOLDER);
        await this.post(text, true);
        await this.messageAt({ kind: 'original' }).delete();
        return;
      }
      const shown = this.original === 'status' && this.statusShown ? this.statusShown : { text: '', components: [] };
      this.original = 'taken';
      this.list.set(0, { kind: 'original' });
      const recover = (content: string, components: ComponentRows, err: unknown) => this.recover(0, content, components, err);
      await new DiscordPart(this.messageAt({ kind: 'original' }), shown, recover, this.buttons).close(text, 'notice');
    });
  }

  /** The engine produced no reply (duplicate delivery, nothing to say): drop "thinking…". */
  async unused(): Promise<void> {
    if (!this.used && (this.original === 'deferred' || this.original === 'status')) await this.messageAt({ kind: 'original' }).delete().catch(() => {});
  }

  private messageAt(ref: DiscordRef): PostedMessage {
    if (ref.kind === 'channel') return channelMessage(this.rest, this.target.channelId, ref.id);
    const { applicationId, token } = this.target;
    const route = Routes.webhookMessage(applicationId, token, ref.kind === 'original' ? '@original' : ref.id);
    return {
      edit: async (content, components) => {
        this.checkClock();
        await this.rest.patch(route, { body: { content, allowed_mentions: NO_PINGS, ...(components ? { components } : {}) }, auth: false });
      },
      delete: async () => {
        if (ref.kind === 'original') this.original = 'deleted';
        await this.rest.delete(route, { auth: false });
      },
    };
  }

  /** A follow-up while the token lives, else (public only) a channel message. */
  private async post(text: string, ephemeral: boolean, components: ComponentRows = []): Promise<{ ref: DiscordRef; message: PostedMessage }> {
    if (this.tokenUsable()) {
      try {
        const { applicationId, token } = this.target;
        const body = {
          content: contentOf(text),
          allowed_mentions: NO_PINGS,
          ...(components.length ? { components } : {}),
          ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
        };
        const msg = (await this.rest.post(Routes.webhook(applicationId, token), { body, query: new URLSearchParams({ wait: 'true' }), auth: false })) as {
          id: string;
        };
        const ref: DiscordRef = { kind: 'followup', id: msg.id };
        return { ref, message: this.messageAt(ref) };
      } catch (err) {
        if (!isExpiredToken(err)) throw err;
        this.expired = true;
      }
    }
    return this.postInChannel(text, ephemeral, components);
  }

  private async recover(index: number, content: string, components: ComponentRows, err: unknown): Promise<PostedMessage> {
    if (!(err instanceof TokenExpired) && !isExpiredToken(err)) throw err;
    this.expired = true;
    const { ref, message } = await this.postInChannel(content, this.target.ephemeral, components);
    this.list.set(index, ref);
    return message;
  }

  private tokenUsable(): boolean {
    if (this.now() > this.target.createdTimestamp + INTERACTION_TOKEN_MS - TOKEN_MARGIN_MS) this.expired = true;
    return !this.expired;
  }

  private checkClock(): void {
    if (!this.tokenUsable()) throw new TokenExpired();
  }

  /** The rest of a reply after the token is gone. A private one never moves to the channel (everyone would see it). */
  private async postInChannel(text: string, ephemeral: boolean, components: ComponentRows): Promise<{ ref: DiscordRef; message: PostedMessage }> {
    if (ephemeral) throw new Error('interaction token expired; a private reply is not moved to the channel');
    const posted = await postChannelMessage(this.rest, this.target.channelId, text, { components });
    return { ref: { kind: 'channel', id: posted.id }, message: posted };
  }
}
