/**
 * The buttons on answers, in platform terms an adapter can hand over: stop an answer while it
 * streams, and say whether one helped. The answer's id is its job's (the buttons carry it).
 */
import type { Caller } from './messages.js';
import type { FeedbackValue } from './stores.js';
import type { Platform } from './tenancy.js';

export interface ControlRequest {
  platform: Platform;
  tenantExternalId: string;
  caller: Caller;
}

/** What the clicker reads (only they see it). */
export interface ControlReply {
  /** The click did what it asked. */
  done: boolean;
  text: string;
}

export interface AnswerControls {
  /** Stops an answer still being given; only its asker or an admin may. */
  stop(req: ControlRequest & { answerId: string }): Promise<ControlReply>;
  /** Stops the answer being given in a conversation (a platform's own stop control names the thread, not the answer). */
  stopIn(req: ControlRequest & { channelId: string; threadId: string | null }): Promise<ControlReply>;
  /** One vote per user per answer; voting again changes it. */
  feedback(req: ControlRequest & { answerId: string; value: FeedbackValue }): Promise<ControlReply>;
}
