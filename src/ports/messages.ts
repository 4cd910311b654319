/** What an adapter hands the engine for one inbound message, in platform-neutral terms. */
import type { Platform } from './tenancy.js';

export interface InboundFile {
  filename: string;
  mimeType: string;
  size: number;
  /** Downloads the file's bytes (with the tenant's own credentials). */
  read(): Promise<Buffer>;
}

export interface PriorMessage {
  role: 'user' | 'assistant';
  userId: string | null;
  text: string;
}

export interface Caller {
  userId: string;
  /** Adapter-supplied permission check (Slack admin/owner/installer, Discord Manage Server). */
  isAdmin(): Promise<boolean>;
}

export interface InboundMessage {
  platform: Platform;
  /** Slack team (or enterprise) id, Discord guild id, console workspace name. */
  tenantExternalId: string;
  /** Platform delivery id for dedupe (Slack event_id, Discord interaction/message id). */
  eventId?: string;
  channelId: string;
  /** Thread id; null for the channel's own timeline (and DMs). */
  threadId: string | null;
  caller: Caller;
  text: string;
  /**
   * 'command': the text is the command grammar (a slash command's text);
   * 'message': a chat message, which may still be a command ("@bot persona list").
   */
  kind: 'command' | 'message';
  /** Mentioned the bot, replied to it, used a slash command or a DM. */
  addressed: boolean;
  isDirect: boolean;
  attachments?: InboundFile[];
  /** Earlier messages of the thread the bot had not seen (first mention in a thread). */
  priorMessages?: PriorMessage[];
  /**
   * Reads the thread's earlier messages, for a first mention inside an existing thread. The
   * engine calls it only when it has no memory of the thread (platform reads are rate-limited);
   * it never throws: a failure means answering without them.
   */
  threadHistory?: () => Promise<PriorMessage[]>;
  /** Aborting it stops the answer in progress (the console's Ctrl-C). */
  signal?: AbortSignal;
}
