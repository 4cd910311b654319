/**
 * Clicks on the answer buttons (buttons.ts): the click is handed to the core's AnswerControls
 * with who clicked (Manage Server counts as admin, as for commands) and the guild it came from
 * (the tenant: an answer of another guild is never found), and the reply goes to the clicker
 * alone. Discord allows 3 s for the first response: a reply that is not ready well before then
 * is deferred (ephemerally) and edited in once it is.
 */
import { MessageFlags, PermissionFlagsBits, type ButtonInteraction } from 'discord.js';
import type { Logger } from '../../src/logger.js';
import type { AnswerControls, ControlReply, ControlRequest } from '../../src/ports/controls.js';
import { parseAnswerButton } from './buttons.js';

/** How long a click's reply may take before the interaction is deferred. */
export const CLICK_REPLY_WITHIN_MS = 1_500;

export const CLICK_TEXT = {
  malformed: "I can't act on that button: it does not name one of my answers.",
  outsideServer: 'Answer buttons work inside servers only.',
  failed: "Sorry, I couldn't do that just now. Please try again in a minute.",
} as const;

export class AnswerButtonClicks {
  constructor(
    private readonly controls: AnswerControls,
    private readonly log: Logger,
    private readonly replyWithinMs = CLICK_REPLY_WITHIN_MS,
  ) {}

  async onButton(interaction: ButtonInteraction): Promise<void> {
    const click = parseAnswerButton(interaction.customId);
    // Not an answer button: acknowledged without a change, so Discord shows no failure.
    if (click === null) return void (await interaction.deferUpdate());
    if (click === 'malformed') return this.answerPrivately(interaction, async () => CLICK_TEXT.malformed);
    const guildId = interaction.guildId;
    if (!guildId) return this.answerPrivately(interaction, async () => CLICK_TEXT.outsideServer);
    const request: ControlRequest = {
      platform: 'discord',
      tenantExternalId: guildId,
      caller: { userId: interaction.user.id, isAdmin: async () => interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false },
    };
    const { answerId } = click;
    const work: () => Promise<ControlReply> =
      click.action === 'stop' ? () => this.controls.stop({ ...request, answerId }) : () => this.controls.feedback({ ...request, answerId, value: click.value });
    await this.answerPrivately(interaction, async () => {
      try {
        return (await work()).text;
      } catch (err) {
        this.log.error({ err, action: click.action, answerId }, 'answer button failed');
        return CLICK_TEXT.failed;
      }
    });
  }

  /** Replies to the clicker only: at once when the text is ready in time, else through an ephemeral deferral. */
  private async answerPrivately(interaction: ButtonInteraction, text: () => Promise<string>): Promise<void> {
    const late: { deferral: Promise<boolean> | null } = { deferral: null };
    const timer = setTimeout(() => {
      late.deferral = interaction.deferReply({ flags: MessageFlags.Ephemeral }).then(
        () => true,
        (err: unknown) => {
          this.log.warn({ err }, 'answer button could not be deferred');
          return false;
        },
      );
    }, this.replyWithinMs);
    let content: string;
    try {
      content = await text();
    } finally {
      clearTimeout(timer);
    }
    const reply = { content, allowedMentions: { parse: [] } };
    if (late.deferral) {
      if (await late.deferral) await interaction.editReply(reply);
      return;
    }
    await interaction.reply({ ...reply, flags: MessageFlags.Ephemeral });
  }
}
