/**
 * The messages a Discord reply is made of. A DiscordPart is one message the core's ReplyStream
 * drives (edit as it grows, a last edit, delete); where it lives (the interaction's reply, a
 * follow-up, a channel message) is a PostedMessage. Every write mentions nobody, and every error
 * leaving here is a DiscordReplyError: discord.js errors carry the request body (message text).
 */
import { DiscordAPIError, Routes, type REST } from 'discord.js';
import type { ReplyPart } from '../../src/ports/reply.js';

/** Discord refuses message content longer than this (400, code 50035). */
export const DISCORD_MESSAGE_LIMIT = 2000;
/** Model output must not ping @everyone or a role. */
export const NO_PINGS = { parse: [] as [] };
/** Discord rejects empty content; a zero-width space keeps a blank message valid. */
const EMPTY = '\u200b';
export const contentOf = (text: string): string => (text.trim() ? text : EMPTY);

export interface PostedMessage {
  edit(content: string): Promise<void>;
  delete(): Promise<void>;
}

/** Called when editing a message failed: a replacement posted elsewhere (the channel, once the token is gone), or it rethrows. */
export type Recover = (content: string, error: unknown) => Promise<PostedMessage>;

export const rethrow: Recover = async (_content, error) => {
  throw error;
};

export class DiscordPart implements ReplyPart {
  constructor(
    private message: PostedMessage,
    /** What the message shows now; null when unknown (a message an earlier attempt wrote). */
    private shown: string | null,
    private readonly recover: Recover,
  ) {}

  update(text: string): Promise<void> {
    return guarded(() => this.write(text));
  }

  close(text: string): Promise<void> {
    return guarded(() => this.write(text));
  }

  remove(): Promise<void> {
    return guarded(() => this.message.delete());
  }

  private async write(text: string): Promise<void> {
    if (text === this.shown) return;
    const content = contentOf(text);
    try {
      await this.message.edit(content);
    } catch (err) {
      this.message = await this.recover(content, err);
    }
    this.shown = text;
  }
}

/** Posts (and later edits or deletes) a message through REST alone, so it works with an uncached channel. */
export async function postChannelMessage(rest: REST, channelId: string, text: string, replyTo?: string): Promise<PostedMessage & { id: string }> {
  const body = {
    content: contentOf(text),
    allowed_mentions: NO_PINGS,
    ...(replyTo ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } } : {}),
  };
  const msg = (await rest.post(Routes.channelMessages(channelId), { body })) as { id: string };
  return {
    id: msg.id,
    edit: async (content) => {
      await rest.patch(Routes.channelMessage(channelId, msg.id), { body: { content, allowed_mentions: NO_PINGS } });
    },
    delete: async () => {
      await rest.delete(Routes.channelMessage(channelId, msg.id));
    },
  };
}

/** Runs a platform write; whatever it throws leaves as a DiscordReplyError (safe to log). */
export async function guarded<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw err instanceof DiscordReplyError ? err : new DiscordReplyError(err);
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
