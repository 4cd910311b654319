/** What users read when something goes wrong. Short, friendly, and never a stack trace. */
import type { LlmErrorKind } from './ports.js';
import type { BusyError } from '../limits/admission.js';

export const replies = {
  busy: (reason: BusyError['reason']) =>
    reason === 'tenant_queue_full'
      ? "I'm busy with this workspace's other questions. Please try again in a minute."
      : "I'm busy right now. Please try again shortly.",
  quota: (limit: number) =>
    `This workspace has used its ${limit.toLocaleString('en-US')} tokens for today. The allowance resets at midnight UTC.`,
  llm: (kind: LlmErrorKind) => {
    switch (kind) {
      case 'unreachable':
        return "I can't reach the language model right now. Please try again in a few minutes.";
      case 'unknown_model':
        return "The model for this persona isn't installed on the server. An admin can pick another persona (`persona use ...`).";
      case 'overloaded':
        return 'The language model is overloaded right now. Please try again shortly.';
      case 'stalled':
      case 'timeout':
        return 'The language model took too long to answer. Please try again.';
      case 'aborted':
        return 'The answer was cancelled.';
      default:
        return 'Something went wrong while answering. Please try again.';
    }
  },
  internal: 'Something went wrong on my side. Please try again; if it keeps happening, tell your workspace admin.',
  disabled: 'This bot is disabled for this workspace. Please contact the operator of this deployment.',
  channelOff: 'I am switched off in this channel. A workspace admin can turn me back on with `channel mode mention`.',
  adminOnly: 'Only workspace admins can do that.',
  emptyAnswer: '(The model returned an empty answer.)',
};
