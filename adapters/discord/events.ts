/**
 * Turns Discord events into answer jobs: slash commands (deferred at once, then accepted) and
 * messages that mention or reply to the bot (or every message, in a channel whose mode is `all`,
 * when the Message Content intent is on). Nothing here waits for an answer: the job is stored
 * before any model work, and restore.ts rebuilds it on whichever instance runs it.
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
import { InteractionReplySink } from './sinks.js';
import { asBotError, vocabularies } from '../../src/ports/errors.js';
import type { AnswerIntake, NewDelivery } from '../../src/ports/jobs.js';
import { acceptFailedText, type DiscordDelivery, type DiscordFile } from './restore.js';

/**
 * Threads are their own memory scope: channelId is the parent channel (whose settings apply),
 * threadId the thread. Everything else is the channel's own timeline.
 */
export function scopeOf(channel: TextBasedChannel | null, channelId: string): { channelId: string; threadId: string | null } {
  if (channel?.isThread() && channel.parentId) return { channelId: channel.parentId, threadId: channel.id };
  return { channelId, threadId: null };
}

const fileOf = (a: { name: string; contentType: string | null; size: number; url: string }): DiscordFile => ({
  name: a.name,
  contentType: a.contentType,
  size: a.size,
  url: a.url,
});

export class DiscordEventHandler {
  constructor(
    private readonly client: Client,
    private readonly intake: AnswerIntake,
    private readonly log: Logger,
    private readonly opts: { messageContent: boolean; applicationId: string; now?: () => number },
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
    // Defer first: Discord allows 3 s for the first response, and storing the job must not eat into it.
    try {
      await interaction.deferReply(spec.ephemeral ? { flags: MessageFlags.Ephemeral } : {});
    } catch (err) {
      // A delivery replayed after a gateway resume was answered the first time.
      if (err instanceof DiscordAPIError && err.code === 40060) return;
      throw err;
    }
    const target = {
      applicationId: this.opts.applicationId,
      token: interaction.token,
      ephemeral: spec.ephemeral,
      channelId: interaction.channelId,
      createdTimestamp: interaction.createdTimestamp,
    };
    const sink = new InteractionReplySink(this.client.rest, target, {}, this.opts.now);
    try {
      const values: ArgValues = {};
      const files: DiscordFile[] = [];
      for (const a of spec.args) {
        if (a.type === T.Attachment) {
          const att = interaction.options.getAttachment(a.name);
          if (att) files.push(fileOf(att));
        } else {
          const v = interaction.options.get(a.name)?.value;
          if (v !== undefined && v !== null) values[a.name] = v as string | number;
        }
      }
      const text = grammarText(spec, values);
      const delivery: DiscordDelivery = {
        kind: 'interaction',
        applicationId: target.applicationId,
        ephemeral: target.ephemeral,
        replyChannelId: target.channelId,
        createdTimestamp: target.createdTimestamp,
        isAdmin: interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false,
        files,
      };
      const outcome = await this.accept(
        {
          platform: 'discord',
          tenantExternalId: interaction.guildId,
          eventId: `interaction:${interaction.id}`,
          ...scopeOf(interaction.channel, interaction.channelId),
          userId: interaction.user.id,
          text,
          delivery: delivery as unknown as Record<string, unknown>,
          secrets: { token: interaction.token },
          // An interaction has a reply of its own.
          mergeable: false,
        },
        (t) => sink.notice(t, { private: false, kind: 'error' }),
      );
      if (outcome === 'no_tenant') await sink.notice('I am not set up in this server yet; ask an admin to re-add me.', { private: false, kind: 'notice' });
      else if (outcome === 'duplicate') await sink.unused();
    } catch (err) {
      // Bad arguments (a grammar refusal) are answered here; the job was never stored.
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
    const files = [...message.attachments.values()].map(fileOf);
    if (!text && files.length === 0) return;
    const delivery: DiscordDelivery = {
      kind: 'message',
      messageId: message.id,
      replyChannelId: message.channelId,
      addressed,
      isAdmin: message.member?.permissions.has(PermissionFlagsBits.ManageGuild) ?? false,
      files,
    };
    await this.accept(
      {
        platform: 'discord',
        tenantExternalId: message.guildId,
        eventId: `message:${message.id}`,
        ...scopeOf(message.channel, message.channelId),
        userId: message.author.id,
        text,
        delivery: delivery as unknown as Record<string, unknown>,
        mergeable: true,
      },
      // Only someone who addressed the bot hears that it cannot take questions now.
      async (t) => {
        if (addressed) await message.reply({ content: t, allowedMentions: { parse: [] } });
      },
    );
  }

  /**
   * Stores the job. If the database cannot take it, the user hears so at once (a Discord event,
   * unlike a Slack delivery, is never sent again), and nothing is left half-done.
   */
  private async accept(d: NewDelivery, tell: (text: string) => Promise<unknown>) {
    try {
      return await this.intake.accept(d);
    } catch (err) {
      this.log.error({ err, eventId: d.eventId }, 'discord delivery could not be accepted');
      await tell(acceptFailedText).catch(() => undefined);
      return 'refused' as const;
    }
  }

  /** Event handlers must not throw into discord.js's emitter; failures are logged, without text. */
  guard<A extends unknown[]>(what: string, fn: (...args: A) => Promise<void>): (...args: A) => void {
    return (...args: A) => {
      fn(...args).catch((err: unknown) => this.log.error({ err }, `discord ${what} failed`));
    };
  }
}
