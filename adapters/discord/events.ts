/**
 * Turns Discord events into the core's inbound messages: slash commands (deferred at once) and
 * messages that mention or reply to the bot (or every message, in a channel whose mode is
 * `all`, when the Message Content intent is on).
 */
import {
  DiscordAPIError,
  MessageFlags,
  PermissionFlagsBits,
  ApplicationCommandOptionType as T,
  type ChatInputCommandInteraction,
  type Client,
  type Message,
  type TextBasedChannel,
} from 'discord.js';
import type { Logger } from '../../src/logger.js';
import { findSpec, grammarText, type ArgValues } from './commands.js';
import { InteractionReplySink, MessageReplySink, describe } from './sinks.js';
import type { Caller, InboundFile } from '../../src/ports/messages.js';
import type { MessageHandler } from '../../src/ports/engine.js';
import { BotError, ErrorCode, asBotError, vocabularies } from '../../src/ports/errors.js';


/**
 * Threads are their own memory scope: channelId is the parent channel (whose settings apply),
 * threadId the thread. Everything else is the channel's own timeline.
 */
export function scopeOf(channel: TextBasedChannel | null, channelId: string): { channelId: string; threadId: string | null } {
  if (channel?.isThread() && channel.parentId) return { channelId: channel.parentId, threadId: channel.id };
  return { channelId, threadId: null };
}

function inboundFile(a: { name: string; contentType: string | null; size: number; url: string }): InboundFile {
  return {
    filename: a.name,
    mimeType: a.contentType ?? 'application/octet-stream',
    size: a.size,
    async read() {
      // Attachment URLs are signed CDN links; no bot token is needed (or sent).
      const res = await fetch(a.url);
      if (!res.ok) throw new BotError(ErrorCode.FileDownloadFailed, `Could not download ${a.name} from Discord (HTTP ${res.status}).`);
      return Buffer.from(await res.arrayBuffer());
    },
  };
}

export class DiscordEventHandler {
  constructor(
    private readonly client: Client,
    private readonly engine: MessageHandler,
    private readonly log: Logger,
    private readonly opts: { messageContent: boolean; now?: () => number },
  ) {}

  async onInteraction(interaction: ChatInputCommandInteraction): Promise<void> {
    const spec = findSpec(interaction.commandName, interaction.options.getSubcommandGroup(false), interaction.options.getSubcommand(false));
    if (!interaction.guildId) {
      await interaction.reply({ content: 'I answer inside servers: use me in a server channel.', flags: MessageFlags.Ephemeral });
      return;
    }
    if (!spec) {
      await interaction.reply({ content: 'Unknown command; try `/llm help`.', flags: MessageFlags.Ephemeral });
      return;
    }
    // Defer first: Discord allows 3 s for the first response, and the engine's own work
    // (dedupe, tenant, queueing) must not eat into it.
    try {
      await interaction.deferReply(spec.ephemeral ? { flags: MessageFlags.Ephemeral } : {});
    } catch (err) {
      // A delivery replayed after a gateway resume was answered the first time.
      if (err instanceof DiscordAPIError && err.code === 40060) return;
      throw err;
    }
    const sink = new InteractionReplySink(interaction, this.client.rest, this.opts.now);
    try {
      const values: ArgValues = {};
      const files: InboundFile[] = [];
      for (const a of spec.args) {
        if (a.type === T.Attachment) {
          const att = interaction.options.getAttachment(a.name);
          if (att) files.push(inboundFile(att));
        } else {
          const v = interaction.options.get(a.name)?.value;
          if (v !== undefined && v !== null) values[a.name] = v as string | number;
        }
      }
      const text = grammarText(spec, values);
      const permissions = interaction.memberPermissions;
      const outcome = await this.engine.handle(
        {
          platform: 'discord',
          tenantExternalId: interaction.guildId,
          eventId: `interaction:${interaction.id}`,
          ...scopeOf(interaction.channel, interaction.channelId),
          caller: { userId: interaction.user.id, isAdmin: async () => permissions?.has(PermissionFlagsBits.ManageGuild) ?? false },
          text,
          kind: 'command',
          addressed: true,
          isDirect: false,
          ...(files.length ? { attachments: files } : {}),
        },
        sink,
      );
      if (!sink.used) {
        if (outcome.status === 'no_tenant') await sink.notice('I am not set up in this server yet; ask an admin to re-add me.', { private: false, kind: 'notice' });
        else if (!outcome.replied) await sink.abandon();
      }
    } catch (err) {
      const error = asBotError(err);
      if (!sink.used) await sink.notice(error.userText(vocabularies.discord), { private: false, kind: 'error' }).catch(() => {});
      if (!error.expected) throw err;
    }
  }

  async onMessage(message: Message): Promise<void> {
    // Bots (this one included), webhooks and system messages never get an answer.
    if (message.author.bot || message.webhookId || message.system) return;
    const botId = this.client.user?.id;
    if (!botId) return;
    if (!message.guildId) {
      await message.reply({ content: 'I answer inside servers: mention me or use `/ask` in a server channel.', allowedMentions: { parse: [] } });
      return;
    }
    const mentioned = message.mentions.users.has(botId);
    const repliedToBot = message.mentions.repliedUser?.id === botId;
    const addressed = mentioned || repliedToBot;
    // Without the Message Content intent only addressed messages carry text, so chatter is
    // not worth a trip through the engine.
    if (!addressed && !this.opts.messageContent) return;
    const text = message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ').replace(/\s+/g, ' ').trim();
    const files = [...message.attachments.values()].map((a) => inboundFile(a));
    if (!text && files.length === 0) return;
    const member = message.member;
    const caller: Caller = {
      userId: message.author.id,
      isAdmin: async () => member?.permissions.has(PermissionFlagsBits.ManageGuild) ?? false,
    };
    const sink = new MessageReplySink(message, this.client.rest);
    await this.engine.handle(
      {
        platform: 'discord',
        tenantExternalId: message.guildId,
        eventId: `message:${message.id}`,
        ...scopeOf(message.channel, message.channelId),
        caller,
        text,
        kind: 'message',
        addressed,
        isDirect: false,
        ...(files.length ? { attachments: files } : {}),
      },
      sink,
    );
  }

  /** Event handlers must not throw into discord.js's emitter; failures are logged, without text. */
  guard<A extends unknown[]>(what: string, fn: (...args: A) => Promise<void>): (...args: A) => void {
    return (...args: A) => {
      fn(...args).catch((err) => this.log.error({ err: describe(err) }, `discord ${what} failed`));
    };
  }
}
