/**
 * ReplySinks for Discord; they only post, edit and delete (the core's ReplyStream paces and
 * splits). An interaction reply: the adapter defers at once, part 0 and the first notice edit the
 * deferred reply, later messages are follow-ups, and once the 15-minute token is (nearly) gone a
 * public reply goes on in the channel; a private one never does. A reply to a message: a `…`
 * placeholder replying to it, then edits and plain channel messages.
 */
import { DiscordAPIError, MessageFlags, type ChatInputCommandInteraction, type Message, type REST } from 'discord.js';
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
 * Reply to a slash command. The adapter defers before the engine runs (the engine's own work
 * can take longer than Discord's 3 s), so working() has nothing left to do.
 */
export class InteractionReplySink implements ReplySink {
  readonly limits = DISCORD_LIMITS;
  /** Something was written (or tried): the adapter leaves the reply alone. */
  used = false;
  /** The deferred reply: still "thinking", taken by a part or notice, or deleted. */
  private original: 'deferred' | 'taken' | 'deleted' = 'deferred';
  private expired = false;

  constructor(
    private readonly interaction: ChatInputCommandInteraction,
    private readonly rest: REST,
    private readonly now: () => number = Date.now,
  ) {}

  async working(): Promise<void> {}

  open(index: number, text: string): Promise<ReplyPart> {
    this.used = true;
    return guarded(async () => {
      const recover = (content: string, err: unknown) => this.recover(content, err);
      if (index === 0 && this.original === 'deferred') {
        this.original = 'taken';
        const part = new DiscordPart(this.originalMessage(), '', recover);
        await part.update(text);
        return part;
      }
      return new DiscordPart(await this.post(text, this.interaction.ephemeral ?? false), text, recover);
    });
  }

  notice(text: string, options: NoticeOptions): Promise<void> {
    this.used = true;
    return guarded(async () => {
      const ephemeral = options.private || (this.interaction.ephemeral ?? false);
      if (this.original !== 'deferred') return void (await this.post(text, ephemeral));
      if (ephemeral && !this.interaction.ephemeral) {
        // A public deferral: a follow-up sent while it still "thinks" takes its place and its
        // visibility. Resolve it, send the private follow-up, then take the public reply down.
        this.original = 'deleted';
        await this.originalMessage().edit(PLACEHOLDER);
        await this.post(text, true);
        await this.interaction.deleteReply();
        return;
      }
      this.original = 'taken';
      await new DiscordPart(this.originalMessage(), '', (content, err) => this.recover(content, err)).close(text);
    });
  }

  /** The engine produced no reply (duplicate delivery, nothing to say): drop "thinking…". */
  async abandon(): Promise<void> {
    if (!this.used && this.original === 'deferred') await this.interaction.deleteReply().catch(() => {});
  }

  private originalMessage(): PostedMessage {
    return {
      edit: async (content) => {
        this.checkClock();
        await this.interaction.editReply({ content, allowedMentions: NO_PINGS });
      },
      delete: async () => {
        this.original = 'deleted';
        await this.interaction.deleteReply();
      },
    };
  }

  /** A follow-up while the token lives, else (public only) a channel message. */
  private async post(text: string, ephemeral: boolean): Promise<PostedMessage> {
    if (this.tokenUsable()) {
      try {
        const flags = ephemeral ? MessageFlags.Ephemeral : undefined;
        const msg = await this.interaction.followUp({ content: contentOf(text), flags, allowedMentions: NO_PINGS });
        return {
          edit: async (content) => {
            this.checkClock();
            await this.interaction.editReply({ message: msg.id, content, allowedMentions: NO_PINGS });
          },
          delete: () => this.interaction.deleteReply(msg.id),
        };
      } catch (err) {
        if (!isExpiredToken(err)) throw err;
        this.expired = true;
      }
    }
    return this.postInChannel(text, ephemeral);
  }

  private async recover(content: string, err: unknown): Promise<PostedMessage> {
    if (!(err instanceof TokenExpired) && !isExpiredToken(err)) throw err;
    this.expired = true;
    return this.postInChannel(content, this.interaction.ephemeral ?? false);
  }

  private tokenUsable(): boolean {
    if (this.now() > this.interaction.createdTimestamp + INTERACTION_TOKEN_MS - TOKEN_MARGIN_MS) this.expired = true;
    return !this.expired;
  }

  private checkClock(): void {
    if (!this.tokenUsable()) throw new TokenExpired();
  }

  /** The rest of a reply after the token is gone. A private one never moves to the channel (everyone would see it). */
  private async postInChannel(text: string, ephemeral: boolean): Promise<PostedMessage> {
    if (ephemeral) throw new Error('interaction token expired; a private reply is not moved to the channel');
    return postChannelMessage(this.rest, this.interaction.channelId, text);
  }
}

/** Reply to a message that mentioned the bot: a placeholder replying to it on working(), then edits. */
export class MessageReplySink implements ReplySink {
  readonly limits = DISCORD_LIMITS;
  private placeholder: PostedMessage | null = null;
  /** The first message of the reply replies to the question; later ones are plain. */
  private posted = false;

  constructor(
    private readonly message: Message,
    private readonly rest: REST,
  ) {}

  working(): Promise<void> {
    return guarded(async () => {
      if (this.posted) return;
      this.placeholder = await this.post(PLACEHOLDER);
    });
  }

  open(index: number, text: string): Promise<ReplyPart> {
    return guarded(async () => {
      const placeholder = index === 0 ? this.takePlaceholder() : null;
      if (placeholder) {
        const part = new DiscordPart(placeholder, PLACEHOLDER, rethrow);
        await part.update(text);
        return part;
      }
      return new DiscordPart(await this.post(text), text, rethrow);
    });
  }

  /** A reply to a message is public: Discord has no private reply here. */
  notice(text: string, _options: NoticeOptions): Promise<void> {
    return guarded(async () => {
      const placeholder = this.takePlaceholder();
      if (placeholder) await new DiscordPart(placeholder, PLACEHOLDER, rethrow).close(text);
      else await this.post(text);
    });
  }

  private takePlaceholder(): PostedMessage | null {
    const placeholder = this.placeholder;
    this.placeholder = null;
    return placeholder;
  }

  private async post(text: string): Promise<PostedMessage> {
    const posted = await postChannelMessage(this.rest, this.message.channelId, text, this.posted ? undefined : this.message.id);
    this.posted = true;
    return posted;
  }
}
