/**
 * Rebuilds a Discord answer job on whichever instance runs it: the message the engine sees and a
 * reply sink that works from the stored ids and the (sealed) interaction token, reusing the
 * messages an earlier attempt posted and carrying the job's id (the answer buttons name it). A
 * question asked inside a thread can read the thread's earlier messages, if the core asks.
 */
import type { REST } from 'discord.js';
import type { Logger } from '../../src/logger.js';
import { BotError, ErrorCode } from '../../src/ports/errors.js';
import type { AnswerJob, DeliveryRestorer, ReplyRecorder } from '../../src/ports/jobs.js';
import type { InboundFile, InboundMessage } from '../../src/ports/messages.js';
import { InteractionReplySink, MessageReplySink, type DiscordRef } from './sinks.js';
import { threadHistoryReader } from './thread-history.js';

/** What a user reads when their question could not even be stored. */
export const acceptFailedText = "I can't take questions right now (my database is unavailable). Please try again in a minute.";

export interface DiscordFile {
  name: string;
  contentType: string | null;
  size: number;
  /** A signed CDN link; no bot token is needed (or sent). */
  url: string;
}

/** The JSON an answer job keeps for a Discord delivery (the token goes in its sealed secrets). */
export type DiscordDelivery =
  | {
      kind: 'interaction';
      applicationId: string;
      ephemeral: boolean;
      replyChannelId: string;
      createdTimestamp: number;
      isAdmin: boolean;
      files: DiscordFile[];
    }
  | { kind: 'message'; messageId: string; replyChannelId: string; addressed: boolean; isAdmin: boolean; files: DiscordFile[] };

function inboundFile(a: DiscordFile): InboundFile {
  return {
    filename: a.name,
    mimeType: a.contentType ?? 'application/octet-stream',
    size: a.size,
    async read() {
      const res = await fetch(a.url).catch((err: unknown) => {
        throw new BotError(ErrorCode.FileDownloadFailed, `Could not download ${a.name} from Discord.`, { cause: err });
      });
      if (!res.ok) throw new BotError(ErrorCode.FileDownloadFailed, `Could not download ${a.name} from Discord (HTTP ${res.status}).`);
      return Buffer.from(await res.arrayBuffer());
    },
  };
}

export interface RestorerOptions {
  /** Clock for the interaction-token deadline (tests). */
  now?: () => number;
  /** The bot's user id, to tell its own messages in a thread's history. */
  botUserId?: () => string | undefined;
  log: Logger;
}

/** The question's own snowflake: the thread's history is what came before it. */
function questionIdOf(job: AnswerJob, d: DiscordDelivery): string | null {
  if (d.kind === 'message') return d.messageId;
  return /^interaction:(\d+)$/.exec(job.eventId)?.[1] ?? null;
}

export class DiscordRestorer implements DeliveryRestorer {
  private readonly now: () => number;

  constructor(
    private readonly rest: REST,
    private readonly options: RestorerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async restore(job: AnswerJob, record: ReplyRecorder) {
    const d = job.delivery as unknown as DiscordDelivery;
    const memory = { refs: job.reply as DiscordRef[], record: (refs: DiscordRef[]) => record(refs) };
    const msg: InboundMessage = {
      platform: 'discord',
      tenantExternalId: job.tenantExternalId,
      channelId: job.channelId,
      threadId: job.threadId,
      // Manage Server as Discord computed it for this member when they asked.
      caller: { userId: job.userId, isAdmin: async () => d.isAdmin },
      text: job.text,
      kind: d.kind === 'interaction' ? 'command' : 'message',
      addressed: d.kind === 'interaction' || d.addressed,
      isDirect: false,
      ...(d.files.length ? { attachments: d.files.map(inboundFile) } : {}),
      ...this.threadHistory(job, d),
    };
    if (d.kind === 'interaction') {
      const token = job.secrets.token;
      if (!token) throw new Error('a Discord interaction job without its token');
      const target = { applicationId: d.applicationId, token, ephemeral: d.ephemeral, channelId: d.replyChannelId, createdTimestamp: d.createdTimestamp };
      return { msg, sink: new InteractionReplySink(this.rest, target, memory, this.now, job.id) };
    }
    return { msg, sink: new MessageReplySink(this.rest, { channelId: d.replyChannelId, messageId: d.messageId }, memory, job.id) };
  }

  private threadHistory(job: AnswerJob, d: DiscordDelivery): Pick<InboundMessage, 'threadHistory'> {
    const before = questionIdOf(job, d);
    if (!job.threadId || !before) return {};
    const { botUserId = () => undefined, log } = this.options;
    return { threadHistory: threadHistoryReader({ rest: this.rest, botUserId, log }, job.threadId, before) };
  }
}
