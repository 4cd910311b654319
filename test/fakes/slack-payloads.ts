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
