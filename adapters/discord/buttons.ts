/**
 * The buttons on Discord answers, in one place: the rows a reply's messages carry (stop while an
 * answer streams, helpful / not helpful under its last message) and the parsing of the
 * `custom_id` a click comes back with. The ids are the contract: `answer_stop:<answer id>` and
 * `answer_feedback:<positive|negative>:<answer id>`, where the answer id is its job's id.
 */
import { ActionRowBuilder, ButtonBuilder, ButtonStyle, type APIActionRowComponent, type APIComponentInMessageActionRow } from 'discord.js';
import type { ReplyKind } from '../../src/ports/reply.js';
import type { FeedbackValue } from '../../src/ports/stores.js';

/** Message components as the REST body carries them; `[]` takes every button off. */
export type ComponentRows = APIActionRowComponent<APIComponentInMessageActionRow>[];

export const STOP_ID = 'answer_stop';
export const FEEDBACK_ID = 'answer_feedback';

const row = (...buttons: ButtonBuilder[]): ComponentRows => [new ActionRowBuilder<ButtonBuilder>().addComponents(...buttons).toJSON()];

/** While an answer is being written: one Stop button. */
export function stopRows(answerId: string): ComponentRows {
  return row(new ButtonBuilder().setCustomId(`${STOP_ID}:${answerId}`).setLabel('Stop').setEmoji('⏹️').setStyle(ButtonStyle.Secondary));
}

/** Under a finished answer: helpful / not helpful. */
export function feedbackRows(answerId: string): ComponentRows {
  const vote = (value: FeedbackValue, label: string, emoji: string) =>
    new ButtonBuilder().setCustomId(`${FEEDBACK_ID}:${value}:${answerId}`).setLabel(label).setEmoji(emoji).setStyle(ButtonStyle.Secondary);
  return row(vote('positive', 'Helpful', '👍'), vote('negative', 'Not helpful', '👎'));
}

/**
 * Which buttons a reply's messages carry, for one answer. Without an answer id (a command's
 * reply, a refusal before the job was stored) nothing carries any.
 */
export class AnswerButtons {
  constructor(private readonly answerId: string | undefined) {}

  /** A message that still grows (or shows the status before there is text). */
  live(): ComponentRows {
    return this.answerId ? stopRows(this.answerId) : [];
  }

  /** A message that is final: only the one that ends an answer gets the feedback buttons. */
  final(kind: ReplyKind, last: boolean): ComponentRows {
    return this.answerId && kind === 'answer' && last ? feedbackRows(this.answerId) : [];
  }
}

export type AnswerButtonClick =
  | { action: 'stop'; answerId: string }
  | { action: 'feedback'; value: FeedbackValue; answerId: string };

/** An answer id as the buttons carry it (a job id); anything else is not one of ours. */
const ANSWER_ID = '[A-Za-z0-9-]{1,64}';
const STOP = new RegExp(`^${STOP_ID}:(${ANSWER_ID})$`);
const FEEDBACK = new RegExp(`^${FEEDBACK_ID}:(positive|negative):(${ANSWER_ID})$`);

/**
 * What a clicked button asks for: a click, `'malformed'` for an id of ours that does not parse
 * (refused, with a reason), or null for a button that is not an answer button at all.
 */
export function parseAnswerButton(customId: string): AnswerButtonClick | 'malformed' | null {
  const [prefix] = customId.split(':', 1);
  if (prefix !== STOP_ID && prefix !== FEEDBACK_ID) return null;
  const stop = STOP.exec(customId);
  if (stop) return { action: 'stop', answerId: stop[1]! };
  const feedback = FEEDBACK.exec(customId);
  if (feedback) return { action: 'feedback', value: feedback[1] as FeedbackValue, answerId: feedback[2]! };
  return 'malformed';
}
