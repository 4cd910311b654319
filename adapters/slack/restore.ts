/**
 * Rebuilds a Slack answer job on whichever instance runs it: the workspace's client (from the
 * cached installation, refreshed tokens included), the caller with its admin check, a lazy read
 * of the thread's earlier messages on a first mention inside a thread (never in the ack path),
 * the attached files, and a reply sink that reuses what an earlier attempt posted and carries
 * the answer's id for its buttons.
 */
import type { InstallProvider } from '@slack/oauth';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../src/logger.js';
import type { AnswerJob, DeliveryRestorer, ReplyRecorder } from '../../src/ports/jobs.js';
import type { InboundMessage } from '../../src/ports/messages.js';
import { inboundFiles, type SlackAdminCheck, type SlackFileLike } from './inbound.js';
import type { ThreadHistoryReader } from './thread-history.js';
import type { Respond } from './reply-parts.js';
import { SlackReplySink, type SlackRef } from './reply-sink.js';
import type { FeaturePolicy, StreamingPolicy } from './feature-policy.js';

/** The JSON an answer job keeps for a Slack delivery (a slash command's response_url goes in its sealed secrets). */
export interface SlackDelivery {
  kind: 'event' | 'command';
  teamId: string;
  enterpriseId: string | null;
  isEnterpriseInstall: boolean;
  /** The channel the reply goes to. */
  channel: string;
  /** The thread the reply goes to; null = top level (a DM, a slash command). */
  threadTs: string | null;
  isDirect: boolean;
  addressed: boolean;
  /** A first mention inside an existing thread: the thread's messages before this ts are read once. */
  historyBefore: string | null;
  files: SlackFileLike[];
}

export interface SlackRestorerDeps {
  installer: Pick<InstallProvider, 'authorize'>;
  /** The workspace's client for a bot token (bounded retries) and one that rejects rate-limited calls (progress). */
  clients(token: string): { client: WebClient; progress: WebClient };
  admin: SlackAdminCheck;
  streaming: StreamingPolicy;
  /** Whether workspaces show thread statuses. */
  statuses: FeaturePolicy;
  threads: ThreadHistoryReader;
  apiUrl: string;
  logger: Logger;
  maxMessageChars?: number;
  minUpdateIntervalMs?: number;
  maxStreamAgeMs?: number;
}

/** Posts to a slash command's response_url (what Bolt's respond() does). */
function responder(url: string): Respond {
  return async (message) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
    if (!res.ok) throw new Error(`slack response_url answered HTTP ${res.status}`);
  };
}

export class SlackRestorer implements DeliveryRestorer {
  constructor(private readonly d: SlackRestorerDeps) {}

  async restore(job: AnswerJob, record: ReplyRecorder) {
    const s = job.delivery as unknown as SlackDelivery;
    const workspace = job.tenantExternalId;
    const auth = await this.d.installer.authorize({
      teamId: s.teamId,
      enterpriseId: s.enterpriseId ?? undefined,
      isEnterpriseInstall: s.isEnterpriseInstall,
      userId: job.userId,
    });
    const token = auth.botToken;
    if (!token) throw new Error(`no bot token for Slack workspace ${workspace}`);
    const { client, progress } = this.d.clients(token);
    const { historyBefore, threadTs } = s;
    const msg: InboundMessage = {
      platform: 'slack',
      tenantExternalId: workspace,
      channelId: job.channelId,
      threadId: job.threadId,
      caller: { userId: job.userId, isAdmin: () => this.d.admin.isAdmin(client, workspace, job.userId) },
      text: job.text,
      kind: s.kind === 'command' ? 'command' : 'message',
      addressed: s.addressed,
      isDirect: s.isDirect,
      attachments: inboundFiles(client, token, s.files, this.d.apiUrl),
      // Read only if the bot has no memory of the thread (the core asks), never in the ack path.
      ...(historyBefore && threadTs
        ? {
            threadHistory: () =>
              // A 429 must mean "answer without the thread" now, not a wait of Retry-After: the client that rejects rate-limited calls.
              this.d.threads.read({ client: progress, workspace, channel: s.channel, threadTs, beforeTs: historyBefore, bot: { userId: auth.botUserId, botId: auth.botId } }),
          }
        : {}),
    };
    const responseUrl = job.secrets.responseUrl;
    const sink = new SlackReplySink({
      client,
      progressClient: progress,
      target: { channel: s.channel, threadTs: s.threadTs, userId: job.userId, teamId: s.teamId, isDirect: s.isDirect },
      streaming: this.d.streaming,
      statuses: this.d.statuses,
      workspace,
      answerId: job.id,
      logger: this.d.logger,
      ...(responseUrl ? { respond: responder(responseUrl), lazy: true } : {}),
      maxMessageChars: this.d.maxMessageChars,
      minUpdateIntervalMs: this.d.minUpdateIntervalMs,
      maxStreamAgeMs: this.d.maxStreamAgeMs,
      refs: job.reply as SlackRef[],
      record: (refs) => record(refs),
    });
    return { msg, sink };
  }
}
