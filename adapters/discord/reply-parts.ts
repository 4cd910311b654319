/**
 * The messages a Discord reply is made of. A DiscordPart is one message the core's ReplyStream
 * drives (edit as it grows, a last edit, delete); where it lives (the interaction's reply, a
 * follow-up, a channel message) is a PostedMessage. Every write mentions nobody, and every error
 * leaving here is a DiscordReplyError: discord.js errors carry the request body (message text).
 * A part also carries the answer's buttons (buttons.ts): Stop while it grows, the feedback
 * buttons once it ends the answer, none otherwise; they are sent only when they change.
 */
import { DiscordAPIError, Routes, type REST } from 'discord.js';
import type { ReplyKind, ReplyLimits, ReplyPart } from '../../src/ports/reply.js';
import { AnswerButtons, type ComponentRows } from './buttons.js';

/** Discord refuses message content longer than this (400, code 50035). */
export const DISCORD_MESSAGE_LIMIT = 2000;
/** Edits of one message at most this often; Discord allows 5 edits per 5 s per channel. */
export const DISCORD_UPDATE_INTERVAL_MS = 1200;
export const DISCORD_LIMITS: ReplyLimits = { maxChars: DISCORD_MESSAGE_LIMIT, minUpdateIntervalMs: DISCORD_UPDATE_INTERVAL_MS };
/** What a reply shows before it has text, when there is no status to say. */
export const PLACEHOLDER = '…';
/** A status ("Waiting for a free slot…", "Thinking…") as the message that will hold the answer shows it. */
export const statusLine = (text: string): string => `⏳ ${text}`;

/** Where one of the reply's messages lives. */
export type DiscordRef = { kind: 'original' } | { kind: 'followup'; id: string } | { kind: 'channel'; id: string };

export interface SinkMemory {
  /** Messages an earlier attempt of this reply posted, in order. */
  refs?: DiscordRef[];
  /** Told whenever the list of messages changes. */
  record?: (refs: DiscordRef[]) => void;
}

/** Keeps the ordered list of the reply's messages and reports every change. */
export class RefList {
  readonly refs: DiscordRef[];
  constructor(private readonly memory: SinkMemory) {
    this.refs = [...(memory.refs ?? [])];
  }
  set(index: number, ref: DiscordRef): void {
    this.refs[index] = ref;
    this.memory.record?.([...this.refs]);
  }
}
/** Model output must not ping @everyone or a role. */
export const NO_PINGS = { parse: [] as [] };
/** Discord rejects empty content; a zero-width space keeps a blank message valid. */
const EMPTY = '\u200b';
export const contentOf = (text: string): string => (text.trim() ? text : EMPTY);

export interface PostedMessage {
  /** New content; `components` replace the message's buttons (`[]` removes them), left as they are when omitted. */
  edit(content: string, components?: ComponentRows): Promise<void>;
  delete(): Promise<void>;
}

/** Called when editing a message failed: a replacement posted elsewhere (the channel, once the token is gone), or it rethrows. */
export type Recover = (content: string, components: ComponentRows, error: unknown) => Promise<PostedMessage>;

export const rethrow: Recover = async (_content, _components, error) => {
  throw error;
};

/** What a message shows, as far as the part knows: null = unknown (a message an earlier attempt wrote). */
export interface Shown {
  text: string | null;
  components: ComponentRows | null;
}

const sameRows = (a: ComponentRows | null, b: ComponentRows) => a !== null && JSON.stringify(a) === JSON.stringify(b);

export class DiscordPart implements ReplyPart {
  private shown: Shown;

  constructor(
    private message: PostedMessage,
    shown: Shown,
    private readonly recover: Recover,
    private readonly buttons: AnswerButtons = new AnswerButtons(undefined),
  ) {
    this.shown = { ...shown };
  }

  update(text: string): Promise<void> {
    return guarded(() => this.write(text, this.buttons.live()));
  }

  close(text: string, kind: ReplyKind = 'notice', options: { last?: boolean } = {}): Promise<void> {
    return guarded(() => this.write(text, this.buttons.final(kind, options.last ?? false)));
  }

  remove(): Promise<void> {
    return guarded(() => this.message.delete());
  }

  private async write(text: string, components: ComponentRows): Promise<void> {
    const rowsChanged = !sameRows(this.shown.components, components);
    if (text === this.shown.text && !rowsChanged) return;
    const content = contentOf(text);
    try {
      await this.message.edit(content, rowsChanged ? components : undefined);
    } catch (err) {
      this.message = await this.recover(content, components, err);
    }
    this.shown = { text, components };
  }
}

/** Posts (and later edits or deletes) a message through REST alone, so it works with an uncached channel. */
export async function postChannelMessage(
  rest: REST,
  channelId: string,
  text: string,
  options: { replyTo?: string; components?: ComponentRows } = {},
): Promise<PostedMessage & { id: string }> {
  const body = {
    content: contentOf(text),
    allowed_mentions: NO_PINGS,
    ...(options.components?.length ? { components: options.components } : {}),
    ...(options.replyTo ? { message_reference: { message_id: options.replyTo, fail_if_not_exists: false } } : {}),
  };
  const msg = (await rest.post(Routes.channelMessages(channelId), { body })) as { id: string };
  return channelMessage(rest, channelId, msg.id);
}

/** An existing channel message, by id. */
export function channelMessage(rest: REST, channelId: string, id: string): PostedMessage & { id: string } {
  return {
    id,
    edit: async (content, components) => {
      await rest.patch(Routes.channelMessage(channelId, id), { body: { content, allowed_mentions: NO_PINGS, ...(components ? { components } : {}) } });
    },
    delete: async () => {
      await rest.delete(Routes.channelMessage(channelId, id));
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
