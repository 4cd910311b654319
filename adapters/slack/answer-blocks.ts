/**
 * The Block Kit an answer carries: its text in a `markdown` block (standard Markdown, up to
 * 12,000 characters: a reply part is far smaller), a stop button while it streams and the
 * helpful / not helpful buttons once it is done. The answer's id rides in the stop button's
 * value and in the feedback block's block_id (the feedback buttons' values are the contract's
 * `positive` / `negative`). Action ids are the contract: `answer_stop`, `answer_feedback`.
 */
import type { KnownBlock } from '@slack/web-api';

export const STOP_ACTION = 'answer_stop';
export const FEEDBACK_ACTION = 'answer_feedback';
const FEEDBACK_BLOCK_PREFIX = 'answer_feedback:';

/** What an answer's message carries besides its text. */
export type AnswerControls = 'stop' | 'feedback' | 'none';

export function stopBlock(answerId: string): KnownBlock {
  return {
    type: 'actions',
    block_id: `answer_stop:${answerId}`,
    elements: [{ type: 'button', action_id: STOP_ACTION, text: { type: 'plain_text', text: 'Stop' }, value: answerId }],
  };
}

export function feedbackBlock(answerId: string): KnownBlock {
  return {
    type: 'context_actions',
    block_id: `${FEEDBACK_BLOCK_PREFIX}${answerId}`,
    elements: [
      {
        type: 'feedback_buttons',
        action_id: FEEDBACK_ACTION,
        positive_button: { text: { type: 'plain_text', text: 'Helpful' }, value: 'positive', accessibility_label: 'This answer helped' },
        negative_button: { text: { type: 'plain_text', text: 'Not helpful' }, value: 'negative', accessibility_label: 'This answer did not help' },
      },
    ],
  };
}

/**
 * The blocks of an answer's message: its Markdown text and its controls. With no controls the
 * message goes back to plain text (an empty list takes earlier blocks away: chat.update keeps
 * them when `blocks` is left out).
 */
export function answerBlocks(markdown: string, controls: AnswerControls, answerId: string): KnownBlock[] {
  if (controls === 'none') return [];
  return [{ type: 'markdown', text: markdown }, controls === 'stop' ? stopBlock(answerId) : feedbackBlock(answerId)];
}

/** The answer id a feedback click refers to, from its block_id; null when it is not ours. */
export function answerIdOfFeedbackBlock(blockId: string | undefined): string | null {
  return blockId?.startsWith(FEEDBACK_BLOCK_PREFIX) ? blockId.slice(FEEDBACK_BLOCK_PREFIX.length) || null : null;
}
