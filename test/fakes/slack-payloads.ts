/**
 * The Slack side of the Events API for tests: v0-signed deliveries (HMAC-SHA256 with the signing
 * secret, as Slack signs them) and payloads shaped like the ones Slack sends.
 */
import { createHmac } from 'node:crypto';

/** What a payload needs of a fake workspace (structural, so this file and the fake do not import each other). */
interface FakeWorkspace {
  teamId: string;
  teamName: string;
  enterpriseId?: string;
  botUserId: string;
  isEnterpriseInstall?: boolean;
}
interface FakeSlack {
  responseUrl(id: string): string;
}

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface DeliveryOptions {
  /** Seconds since the epoch; defaults to now. */
  timestamp?: number;
  retryNum?: number;
  /** Overrides the computed signature (forgeries). */
  signature?: string;
  form?: boolean;
}

/** POSTs a signed Events API (JSON) or slash command (form) delivery like Slack does. */
export async function deliver(url: string, secret: string, payload: Record<string, unknown>, o: DeliveryOptions = {}): Promise<Response> {
  const body = o.form ? new URLSearchParams(payload as Record<string, string>).toString() : JSON.stringify(payload);
  const ts = o.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'Content-Type': o.form ? 'application/x-www-form-urlencoded' : 'application/json',
    'X-Slack-Request-Timestamp': String(ts),
    'X-Slack-Signature': o.signature ?? slackSignature(secret, ts, body),
  };
  if (o.retryNum !== undefined) {
    headers['X-Slack-Retry-Num'] = String(o.retryNum);
    headers['X-Slack-Retry-Reason'] = 'http_timeout';
  }
  return fetch(url, { method: 'POST', headers, body });
}

let eventSeq = 0;
export const nextEventId = () => `Ev${Date.now().toString(36).toUpperCase()}${(eventSeq += 1)}`;

/** An Events API envelope (`event_callback`) for `event` in workspace `ws`. */
export function eventEnvelope(ws: FakeWorkspace, event: Record<string, unknown>, eventId = nextEventId()): Record<string, unknown> {
  return {
    token: 'legacy-verification-token',
    team_id: ws.teamId,
    ...(ws.enterpriseId ? { enterprise_id: ws.enterpriseId } : {}),
    api_app_id: 'A0FAKEAPP',
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: ws.teamId, enterprise_id: ws.enterpriseId ?? null, user_id: ws.botUserId, is_bot: true, is_enterprise_install: !!ws.isEnterpriseInstall }],
    is_ext_shared_channel: false,
    event,
  };
}

export function mentionEvent(ws: FakeWorkspace, o: { channel: string; user: string; text: string; ts: string; threadTs?: string; files?: unknown[] }): Record<string, unknown> {
  return {
    type: 'app_mention',
    user: o.user,
    text: `<@${ws.botUserId}> ${o.text}`,
    ts: o.ts,
    event_ts: o.ts,
    channel: o.channel,
    team: ws.teamId,
    ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
    ...(o.files ? { files: o.files } : {}),
  };
}

export function messageEvent(ws: FakeWorkspace, o: { channel: string; channelType: 'im' | 'channel'; user?: string; botId?: string; text: string; ts: string; threadTs?: string; subtype?: string }): Record<string, unknown> {
  return {
    type: 'message',
    channel: o.channel,
    channel_type: o.channelType,
    text: o.text,
    ts: o.ts,
    event_ts: o.ts,
    team: ws.teamId,
    ...(o.user ? { user: o.user } : {}),
    ...(o.botId ? { bot_id: o.botId, subtype: 'bot_message' } : {}),
    ...(o.subtype ? { subtype: o.subtype } : {}),
    ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
  };
}

/** A slash command delivery (form fields) with a response_url on the fake. */
export function slashCommand(fake: FakeSlack, ws: FakeWorkspace, o: { channel: string; user: string; text: string; responseId: string }): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: ws.teamId,
    team_domain: ws.teamName.toLowerCase(),
    channel_id: o.channel,
    channel_name: o.channel.startsWith('D') ? 'directmessage' : 'general',
    user_id: o.user,
    user_name: o.user.toLowerCase(),
    command: '/llm',
    text: o.text,
    api_app_id: 'A0FAKEAPP',
    is_enterprise_install: 'false',
    response_url: fake.responseUrl(o.responseId),
    trigger_id: `trig.${o.responseId}`,
  };
}

/** assistant_thread_started: the user opened a new assistant thread (a DM channel, a thread root). */
export function assistantThreadStartedEvent(o: { channel: string; threadTs: string; user: string; contextChannel?: string }): Record<string, unknown> {
  return {
    type: 'assistant_thread_started',
    assistant_thread: { user_id: o.user, context: o.contextChannel ? { channel_id: o.contextChannel } : {}, channel_id: o.channel, thread_ts: o.threadTs },
    event_ts: o.threadTs,
  };
}

export function appHomeOpenedEvent(o: { channel: string; user: string; tab: 'home' | 'messages' }): Record<string, unknown> {
  return { type: 'app_home_opened', user: o.user, channel: o.channel, tab: o.tab, event_ts: `${Math.floor(Date.now() / 1000)}.000100` };
}

/** agent_session_stopped: the user pressed Slack's own stop control on a thread the bot streams in. */
export function agentSessionStoppedEvent(o: { channel: string; threadTs: string; user: string; streamingTs?: string[] }): Record<string, unknown> {
  return { type: 'agent_session_stopped', channel: o.channel, user: o.user, thread_ts: o.threadTs, streaming_message_ts: o.streamingTs ?? [], event_ts: `${Math.floor(Date.now() / 1000)}.000200` };
}

/**
 * A block_actions interaction (a button clicked on a message), as the form field `payload` Slack
 * POSTs to the interactivity URL.
 */
export function blockActions(
  ws: FakeWorkspace,
  o: { user: string; channel: string; messageTs: string; threadTs?: string; action: { action_id: string; block_id: string; value?: string; type?: string }; responseUrl?: string },
): Record<string, string> {
  const payload = {
    type: 'block_actions',
    user: { id: o.user, team_id: ws.teamId },
    api_app_id: 'A0FAKEAPP',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: o.messageTs, channel_id: o.channel, is_ephemeral: false, ...(o.threadTs ? { thread_ts: o.threadTs } : {}) },
    trigger_id: `trig.${o.messageTs}`,
    team: { id: ws.teamId, domain: ws.teamName.toLowerCase() },
    enterprise: ws.enterpriseId ? { id: ws.enterpriseId } : null,
    is_enterprise_install: !!ws.isEnterpriseInstall,
    channel: { id: o.channel, name: 'general' },
    message: { type: 'message', ts: o.messageTs, ...(o.threadTs ? { thread_ts: o.threadTs } : {}) },
    ...(o.responseUrl ? { response_url: o.responseUrl } : {}),
    actions: [{ type: o.action.type ?? 'button', action_id: o.action.action_id, block_id: o.action.block_id, ...(o.action.value !== undefined ? { value: o.action.value } : {}), action_ts: `${Date.now() / 1000}` }],
  };
  return { payload: JSON.stringify(payload) };
}
