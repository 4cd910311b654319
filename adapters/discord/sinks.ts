/**
 * ReplySinks for Discord: an interaction reply (deferred at once, edited, split into follow-ups,
 * moved to the channel when the 15-minute token runs out) and a reply to a message (placeholder,
 * then edits). Both write through ChunkedReplyWriter and mention nobody: model output must not
 * ping @everyone or a role.
 */
import { DiscordAPIError, MessageFlags, Routes, type ChatInputCommandInteraction, type Message, type REST } from 'discord.js';
import type { Logger } from '../../src/logger.js';
import { ChunkedReplyWriter, type PostedMessage, type ReplySurface } from './reply-writer.js';
import type { FinishOptions, ReplySink } from '../../src/ports/reply.js';

/** Edits of one message at most this often; Discord allows 5 edits per 5 s per channel. */
export const DISCORD_UPDATE_INTERVAL_MS = 1200;
/** An interaction token lives 15 minutes; stop using it a little before. */
export const INTERACTION_TOKEN_MS = 15 * 60_000;
const TOKEN_MARGIN_MS = 30_000;
const NO_PINGS = { parse: [] as [] };
const PLACEHOLDER = '…';

/** Discord's answers for an interaction token that is gone. */
function isExpiredToken(err: unknown): boolean {
  return err instanceof DiscordAPIError && (err.code === 50027 || err.code === 10015 || err.code === 10062);
}

class WriterSink implements ReplySink {
  readonly minUpdateIntervalMs = DISCORD_UPDATE_INTERVAL_MS;
  finished = false;
  protected readonly writer: ChunkedReplyWriter;

  constructor(
    protected readonly surface: ReplySurface,
    protected readonly log: Logger,
  ) {
    this.writer = new ChunkedReplyWriter(surface, (err) => this.log.warn({ err: describe(err) }, 'discord reply write failed'));
  }

  async start(): Promise<void> {}

  async update(textSoFar: string): Promise<void> {
    if (!this.finished) this.writer.schedule(textSoFar);
  }

  async finish(text: string, _options?: FinishOptions): Promise<void> {
    this.finished = true;
    try {
      await this.writer.flush(text);
    } catch (err) {
      // discord.js errors carry the request body (the answer text); whoever logs this must not.
      throw new DiscordReplyError(err);
    }
  }
}

/** A failed reply write, stripped to what is safe to log. */
export class DiscordReplyError extends Error {
  readonly details: Record<string, unknown>;
  constructor(cause: unknown) {
    const details = describe(cause);
    super(`Discord reply failed: ${String(details.name ?? '')} ${String(details.code ?? details.message ?? '')}`.trim());
    this.name = 'DiscordReplyError';
    this.details = details;
  }
}

/**
 * Reply to a slash command. The adapter defers before the engine runs (the engine's own work
 * can take longer than Discord's 3 s), so start() has nothing left to do.
 */
export class InteractionReplySink extends WriterSink {
  constructor(interaction: ChatInputCommandInteraction, rest: REST, log: Logger, now: () => number = Date.now) {
    super(new InteractionSurface(interaction, rest, now), log);
  }

  /** The engine produced no reply (duplicate delivery, nothing to say): drop "thinking…". */
  async abandon(): Promise<void> {
    if (!this.finished) await (this.surface as InteractionSurface).deleteOriginal().catch(() => {});
  }
}

class InteractionSurface implements ReplySurface {
  private expired = false;
  private readonly original: PostedMessage;

  constructor(
    private readonly interaction: ChatInputCommandInteraction,
    private readonly rest: REST,
    private readonly now: () => number,
  ) {
    this.original = {
      edit: async (content) => {
        this.checkClock();
        await interaction.editReply({ content, allowedMentions: NO_PINGS });
      },
      delete: () => interaction.deleteReply(),
    };
  }

  primary(): PostedMessage {
    return this.original;
  }

  async post(content: string): Promise<PostedMessage> {
    if (this.tokenUsable()) {
      try {
        const flags = this.interaction.ephemeral ? MessageFlags.Ephemeral : undefined;
        const msg = await this.interaction.followUp({ content, flags, allowedMentions: NO_PINGS });
        return {
          edit: async (c) => {
            this.checkClock();
            await this.interaction.editReply({ message: msg.id, content: c, allowedMentions: NO_PINGS });
          },
          delete: () => this.interaction.deleteReply(msg.id),
        };
      } catch (err) {
        if (!isExpiredToken(err)) throw err;
        this.expired = true;
      }
    }
    return this.postInChannel(content);
  }

  async recover(_message: PostedMessage, content: string, err: unknown): Promise<PostedMessage> {
    if (!(err instanceof TokenExpired) && !isExpiredToken(err)) throw err;
    this.expired = true;
    return this.postInChannel(content);
  }

  async deleteOriginal(): Promise<void> {
    await this.interaction.deleteReply();
  }

  private tokenUsable(): boolean {
    if (this.now() > this.interaction.createdTimestamp + INTERACTION_TOKEN_MS - TOKEN_MARGIN_MS) this.expired = true;
    return !this.expired;
  }

  private checkClock(): void {
    if (!this.tokenUsable()) throw new TokenExpired();
  }

  /**
   * The rest of a long answer after the token is gone. An ephemeral reply never moves to the
   * channel (that would show it to everyone); its late pieces are dropped.
   */
  private async postInChannel(content: string): Promise<PostedMessage> {
    if (this.interaction.ephemeral) throw new Error('interaction token expired; ephemeral reply not moved to the channel');
    return postChannelMessage(this.rest, this.interaction.channelId, content);
  }
}

class TokenExpired extends Error {
  constructor() {
    super('interaction token about to expire');
  }
}

/** Posts (and later edits) a message through REST alone, so it works with an uncached channel. */
export async function postChannelMessage(rest: REST, channelId: string, content: string, replyTo?: string): Promise<PostedMessage> {
  const body = {
    content,
    allowed_mentions: NO_PINGS,
    ...(replyTo ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } } : {}),
  };
  const msg = (await rest.post(Routes.channelMessages(channelId), { body })) as { id: string };
  return {
    edit: async (c) => {
      await rest.patch(Routes.channelMessage(channelId, msg.id), { body: { content: c, allowed_mentions: NO_PINGS } });
    },
    delete: async () => {
      await rest.delete(Routes.channelMessage(channelId, msg.id));
    },
  };
}

/** Reply to a message that mentioned the bot: a placeholder reply on start(), then edits. */
export class MessageReplySink extends WriterSink {
  constructor(message: Message, rest: REST, log: Logger) {
    super(new MessageSurface(message, rest), log);
  }

  override async start(): Promise<void> {
    try {
      await (this.surface as MessageSurface).placeholder();
    } catch (err) {
      throw new DiscordReplyError(err);
    }
  }
}

class MessageSurface implements ReplySurface {
  private first: PostedMessage | null = null;

  constructor(
    private readonly message: Message,
    private readonly rest: REST,
  ) {}

  async placeholder(): Promise<void> {
    if (!this.first) this.first = await postChannelMessage(this.rest, this.message.channelId, PLACEHOLDER, this.message.id);
  }

  primary(): PostedMessage | null {
    return this.first;
  }

  async post(content: string): Promise<PostedMessage> {
    if (!this.first) {
      // finish() without start() (a short notice): the reply is the first message.
      this.first = await postChannelMessage(this.rest, this.message.channelId, content, this.message.id);
      return this.first;
    }
    return postChannelMessage(this.rest, this.message.channelId, content);
  }

  async recover(_m: PostedMessage, _c: string, err: unknown): Promise<PostedMessage> {
    throw err;
  }
}

/** An error summary safe to log: no request bodies (they hold message text). */
export function describe(err: unknown): Record<string, unknown> {
  if (err instanceof DiscordAPIError) {
    // Webhook and callback URLs carry the interaction token.
    const url = err.url.replace(/\/(webhooks|interactions)\/(\d+)\/[^/?]+/, '/$1/$2/[token]');
    return { name: err.name, code: err.code, status: err.status, method: err.method, url };
  }
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { value: String(err) };
}
