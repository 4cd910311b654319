/**
 * ReplySinks for Discord; they only post, edit and delete (the core's ReplyStream paces and
 * splits). An interaction reply: the adapter defers at once, part 0 and the first notice edit the
 * deferred reply, later messages are follow-ups, and once the 15-minute token is (nearly) gone a
 * public reply goes on in the channel; a private one never does. A reply to a message: a `…`
 * placeholder replying to it, then edits and plain channel messages.
 *
 * Both work from plain data (ids, the interaction token) rather than discord.js objects, and
 * report every message they post as a reference: an answer job keeps them, so a reply begun
 * before a crash is finished in place by whichever instance resumes it.
 */
import { DiscordAPIError, MessageFlags, Routes, type REST } from 'discord.js';
import type { NoticeOptions, ReplyLimits, ReplyPart, ReplySink } from '../../src/ports/reply.js';
import { contentOf, DISCORD_MESSAGE_LIMIT, DiscordPart, guarded, NO_PINGS, postChannelMessage, rethrow, type PostedMessage } from './reply-parts.js';

export { describe, DiscordReplyError } from './reply-parts.js';

/** Edits of one message at most this often; Discord allows 5 edits per 5 s per channel. */
export const DISCORD_UPDATE_INTERVAL_MS = 1200;
export const DISCORD_LIMITS: ReplyLimits = { maxChars: DISCORD_MESSAGE_LIMIT, minUpdateIntervalMs: DISCORD_UPDATE_INTERVAL_MS };
/** An interaction token lives 15 minutes; stop using it a little before. */
export const INTERACTION_TOKEN_MS = 15 * 60_000;
const TOKEN_MARGIN_MS = 30_000;
const PLACEHOLDER = '…';

/** Where one of the reply's messages lives. */
export type DiscordRef = { kind: 'original' } | { kind: 'followup'; id: string } | { kind: 'channel'; id: string };

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

export interface SinkMemory {
  /** Messages an earlier attempt of this reply posted, in order. */
  refs?: DiscordRef[];
  /** Told whenever the list of messages changes. */
  record?: (refs: DiscordRef[]) => void;
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

/** Keeps the ordered list of the reply's messages and reports every change. */
class RefList {
  readonly refs: DiscordRef[];
  constructor(private readonly memory: SinkMemory) {
    this.refs = [...(memory.refs ?? [])];
  }
  set(index: number, ref: DiscordRef): void {
    this.refs[index] = ref;
    this.memory.record?.([...this.refs]);
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
  /** The deferred reply: still "thinking", taken by a part or notice, or deleted. */
  private original: 'deferred' | 'taken' | 'deleted';
  private expired = false;
  private readonly list: RefList;

  constructor(
    private readonly rest: REST,
    private readonly target: InteractionTarget,
    memory: SinkMemory = {},
    private readonly now: () => number = Date.now,
  ) {
    this.list = new RefList(memory);
    // A resumed reply already wrote its first message: edit it, do not post another.
    this.original = this.list.refs.length > 0 ? 'taken' : 'deferred';
  }

  async working(): Promise<void> {}

  open(index: number, text: string): Promise<ReplyPart> {
    this.used = true;
    return guarded(async () => {
      const recover = (content: string, err: unknown) => this.recover(index, content, err);
      const earlier = this.list.refs[index];
      if (earlier) {
        const part = new DiscordPart(this.messageAt(earlier), null, recover);
        await part.update(text);
        return part;
      }
      if (index === 0 && this.original === 'deferred') {
        this.original = 'taken';
        this.list.set(0, { kind: 'original' });
        const part = new DiscordPart(this.messageAt({ kind: 'original' }), '', recover);
        await part.update(text);
        return part;
      }
      const { ref, message } = await this.post(text, this.target.ephemeral);
      this.list.set(index, ref);
      return new DiscordPart(message, text, recover);
    });
  }

  notice(text: string, options: NoticeOptions): Promise<void> {
    this.used = true;
    return guarded(async () => {
      const ephemeral = options.private || this.target.ephemeral;
      const earlier = this.list.refs[0];
      if (earlier && !options.private) return void (await this.messageAt(earlier).edit(contentOf(text)).catch((err: unknown) => this.recover(0, contentOf(text), err)));
      if (this.original !== 'deferred') return void (await this.post(text, ephemeral));
      if (ephemeral && !this.target.ephemeral) {
        // A public deferral: a follow-up sent while it still "thinks" takes its place and its
        // visibility. Resolve it, send the private follow-up, then take the public reply down.
        this.original = 'deleted';
        await this.messageAt({ kind: 'original' }).edit(PLACEHOLDER);
        await this.post(text, true);
        await this.messageAt({ kind: 'original' }).delete();
        return;
      }
      this.original = 'taken';
      this.list.set(0, { kind: 'original' });
      await new DiscordPart(this.messageAt({ kind: 'original' }), '', (content, err) => this.recover(0, content, err)).close(text);
    });
  }

  /** The engine produced no reply (duplicate delivery, nothing to say): drop "thinking…". */
  async unused(): Promise<void> {
    if (!this.used && this.original === 'deferred') await this.messageAt({ kind: 'original' }).delete().catch(() => {});
  }

  private messageAt(ref: DiscordRef): PostedMessage {
    if (ref.kind === 'channel') return channelMessage(this.rest, this.target.channelId, ref.id);
    const { applicationId, token } = this.target;
    const route = Routes.webhookMessage(applicationId, token, ref.kind === 'original' ? '@original' : ref.id);
    return {
      edit: async (content) => {
        this.checkClock();
        await this.rest.patch(route, { body: { content, allowed_mentions: NO_PINGS }, auth: false });
      },
      delete: async () => {
        if (ref.kind === 'original') this.original = 'deleted';
        await this.rest.delete(route, { auth: false });
      },
    };
  }

  /** A follow-up while the token lives, else (public only) a channel message. */
  private async post(text: string, ephemeral: boolean): Promise<{ ref: DiscordRef; message: PostedMessage }> {
    if (this.tokenUsable()) {
      try {
        const { applicationId, token } = this.target;
        const body = { content: contentOf(text), allowed_mentions: NO_PINGS, ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) };
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
    return this.postInChannel(text, ephemeral);
  }

  private async recover(index: number, content: string, err: unknown): Promise<PostedMessage> {
    if (!(err instanceof TokenExpired) && !isExpiredToken(err)) throw err;
    this.expired = true;
    const { ref, message } = await this.postInChannel(content, this.target.ephemeral);
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
  private async postInChannel(text: string, ephemeral: boolean): Promise<{ ref: DiscordRef; message: PostedMessage }> {
    if (ephemeral) throw new Error('interaction token expired; a private reply is not moved to the channel');
    const posted = await postChannelMessage(this.rest, this.target.channelId, text);
    return { ref: { kind: 'channel', id: posted.id }, message: posted };
  }
}

/** The message a mention's reply answers. */
export interface MessageTarget {
  channelId: string;
  messageId: string;
}

/** Reply to a message that mentioned the bot: a placeholder replying to it on working(), then edits. */
export class MessageReplySink implements ReplySink {
  readonly limits = DISCORD_LIMITS;
  private placeholder: PostedMessage | null = null;
  private readonly list: RefList;

  constructor(
    private readonly rest: REST,
    private readonly target: MessageTarget,
    memory: SinkMemory = {},
  ) {
    this.list = new RefList(memory);
  }

  working(): Promise<void> {
    return guarded(async () => {
      if (this.list.refs.length > 0) return;
      this.placeholder = await this.post(PLACEHOLDER, 0);
    });
  }

  open(index: number, text: string): Promise<ReplyPart> {
    return guarded(async () => {
      const earlier = this.list.refs[index];
      const existing = index === 0 ? (this.takePlaceholder() ?? (earlier ? this.messageAt(earlier) : null)) : earlier ? this.messageAt(earlier) : null;
      if (existing) {
        const part = new DiscordPart(existing, index === 0 && !earlier ? PLACEHOLDER : null, rethrow);
        await part.update(text);
        return part;
      }
      return new DiscordPart(await this.post(text, index), text, rethrow);
    });
  }

  /** A reply to a message is public: Discord has no private reply here. */
  notice(text: string, _options: NoticeOptions): Promise<void> {
    return guarded(async () => {
      const first = this.takePlaceholder() ?? (this.list.refs[0] ? this.messageAt(this.list.refs[0]) : null);
      if (first) await new DiscordPart(first, null, rethrow).close(text);
      else await this.post(text, 0);
    });
  }

  private takePlaceholder(): PostedMessage | null {
    const placeholder = this.placeholder;
    this.placeholder = null;
    return placeholder;
  }

  private messageAt(ref: DiscordRef): PostedMessage {
    return channelMessage(this.rest, this.target.channelId, ref.kind === 'original' ? '' : ref.id);
  }

  /** The first message of the reply replies to the question; later ones are plain. */
  private async post(text: string, index: number): Promise<PostedMessage> {
    const posted = await postChannelMessage(this.rest, this.target.channelId, text, index === 0 ? this.target.messageId : undefined);
    this.list.set(index, { kind: 'channel', id: posted.id });
    return posted;
  }
}

/** An existing channel message, by id. */
function channelMessage(rest: REST, channelId: string, id: string): PostedMessage & { id: string } {
  return {
    id,
    edit: async (content) => {
      await rest.patch(Routes.channelMessage(channelId, id), { body: { content, allowed_mentions: NO_PINGS } });
    },
    delete: async () => {
      await rest.delete(Routes.channelMessage(channelId, id));
    },
  };
}
