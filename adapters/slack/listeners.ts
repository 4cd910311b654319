/**
 * Bolt listeners: mentions, DMs, channel messages, the /llm command and the app's lifecycle
 * events. Each turns a delivery into an InboundMessage plus a SlackReplySink and hands both to
 * the engine; Bolt has already acked (events) or the listener acks first (commands), so the
 * work runs after the 3-second window.
 */
import type { AllMiddlewareArgs, App, Context, SlackCommandMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../src/logger.js';
import type { TenantRegistry } from '../../src/tenancy/registry.js';
import { inboundFiles, stripBotMention, threadHistory, type SlackAdminCheck, type SlackFileLike } from './inbound.js';
import type { PostgresInstallationStore } from './installation-store.js';
import { SlackReplySink, type SlackReplySinkOptions, type SlackReplyTarget, type StreamingPolicy } from './reply-sink.js';
import type { InboundMessage, PriorMessage } from '../../src/ports/messages.js';
import type { MessageHandler } from '../../src/ports/engine.js';
import type { DeliveryDedupe } from '../../src/ports/stores.js';

export interface SlackListenerDeps {
  engine: MessageHandler;
  tenants: Pick<TenantRegistry, 'markUninstalled'>;
  store: PostgresInstallationStore;
  /** Lifecycle events (uninstall, revoke) are acted on once per delivery id. */
  dedupe: DeliveryDedupe;
  admin: SlackAdminCheck;
  /** A client for `token` that rejects rate-limited calls at once (progress edits). */
  progressClient(token: string): WebClient;
  streaming: StreamingPolicy;
  apiUrl: string;
  logger: Logger;
  maxMessageChars?: number;
  minUpdateIntervalMs?: number;
  /** Called when a listener's work is done (tests wait on it). */
  onHandled?: (what: string) => void;
}

/** Message subtypes that are still a person writing to the channel. */
const PERSON_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

export function workspaceKeyOf(context: Context): string | undefined {
  return context.isEnterpriseInstall ? context.enterpriseId : (context.teamId ?? context.enterpriseId);
}

type MentionArgs = SlackEventMiddlewareArgs<'app_mention'> & AllMiddlewareArgs;
type MessageArgs = SlackEventMiddlewareArgs<'message'> & AllMiddlewareArgs;
type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

interface SlackMessageEvent {
  subtype?: string;
  bot_id?: string;
  user?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  channel: string;
  channel_type?: string;
  files?: SlackFileLike[];
}

export function registerListeners(app: App, d: SlackListenerDeps): void {
  const l = new SlackListeners(d);
  app.event('app_mention', (args) => l.track('app_mention', () => l.mention(args)));
  app.event('message', (args) => l.track('message', () => l.message(args)));
  app.command('/llm', async (args) => {
    await args.ack();
    await l.track('command', () => l.command(args));
  });
  app.event('app_uninstalled', ({ body, context }) =>
    l.track('app_uninstalled', () => l.uninstall(lifecycleKey(body, context), body, 'app_uninstalled')),
  );
  app.event('tokens_revoked', ({ event, body, context }) =>
    l.track('tokens_revoked', async () => {
      // Only the bot token matters: without it the app can no longer act in the workspace.
      if ((event.tokens.bot ?? []).length > 0) await l.uninstall(lifecycleKey(body, context), body, 'tokens_revoked');
    }),
  );
  app.error(async (err) => {
    d.logger.warn({ code: (err as { code?: string }).code, err: err.message.replace(/xox[a-z]-[A-Za-z0-9-]+/g, '[token]') }, 'slack listener error');
    d.onHandled?.('error');
  });
}

class SlackListeners {
  constructor(private readonly d: SlackListenerDeps) {}

  /** Runs a listener's work and reports it done (also when it decided to ignore the delivery). */
  async track(what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } finally {
      this.d.onHandled?.(what);
    }
  }

  async mention({ event, body, context, client }: MentionArgs): Promise<void> {
    const workspace = workspaceKeyOf(context);
    const token = context.botToken;
    const e = event as typeof event & { files?: SlackFileLike[]; bot_id?: string };
    if (!workspace || !token || !e.user || e.bot_id) return;
    const threadTs = e.thread_ts ?? e.ts;
    // A first mention inside an existing thread brings the thread along (the engine keeps it once).
    const priorMessages =
      e.thread_ts && e.thread_ts !== e.ts
        ? await threadHistory(client, e.channel, e.thread_ts, e.ts, { userId: context.botUserId, botId: context.botId }).catch((err) => {
            this.d.logger.warn({ err: (err as { code?: string }).code }, 'slack conversations.replies failed');
            return [];
          })
        : undefined;
    await this.handleChat({ body, context, client, workspace, token, event: e, user: e.user, threadTs, isDirect: false, addressed: true, priorMessages });
  }

  async message({ event, body, context, client }: MessageArgs): Promise<void> {
    const e = event as unknown as SlackMessageEvent;
    const workspace = workspaceKeyOf(context);
    const token = context.botToken;
    // Edits, joins, other bots (and, through Bolt's ignoreSelf, this bot) are not people talking.
    if (!workspace || !token || !e.user || e.bot_id || !PERSON_SUBTYPES.has(e.subtype)) return;
    const isDirect = e.channel_type === 'im';
    // A channel message that mentions the bot also arrives as app_mention; answer that one only.
    if (!isDirect && context.botUserId && (e.text ?? '').includes(`<@${context.botUserId}`)) return;
    const threadTs = isDirect ? (e.thread_ts ?? null) : (e.thread_ts ?? e.ts);
    // The engine decides by channel mode whether ambient channel chatter gets an answer.
    await this.handleChat({ body, context, client, workspace, token, event: e, user: e.user, threadTs, isDirect, addressed: isDirect });
  }

  /** A mention or a message, as the engine sees it, answered through a sink on that thread. */
  private async handleChat(a: {
    body: unknown;
    context: MentionArgs['context'];
    client: MentionArgs['client'];
    workspace: string;
    token: string;
    event: { channel: string; text?: string; files?: SlackFileLike[] };
    user: string;
    threadTs: string | null;
    isDirect: boolean;
    addressed: boolean;
    priorMessages?: PriorMessage[];
  }): Promise<void> {
    const { event: e, workspace, client, context } = a;
    const msg: InboundMessage = {
      platform: 'slack',
      tenantExternalId: workspace,
      eventId: (a.body as { event_id?: string }).event_id,
      channelId: e.channel,
      threadId: a.threadTs,
      caller: this.caller(client, workspace, a.user),
      text: stripBotMention(e.text ?? '', context.botUserId),
      kind: 'message',
      addressed: a.addressed,
      isDirect: a.isDirect,
      attachments: inboundFiles(client, a.token, e.files, this.d.apiUrl),
      ...(a.priorMessages?.length ? { priorMessages: a.priorMessages } : {}),
    };
    const target = { channel: e.channel, threadTs: a.threadTs, userId: a.user, teamId: context.teamId ?? workspace, isDirect: a.isDirect };
    await this.d.engine.handle(msg, this.sink(client, a.token, workspace, target));
  }

  async command({ command, respond, context, client }: CommandArgs): Promise<void> {
    const workspace = workspaceKeyOf(context);
    const token = context.botToken;
    if (!workspace || !token) return;
    const isDirect = command.channel_name === 'directmessage' || command.channel_id.startsWith('D');
    const msg: InboundMessage = {
      platform: 'slack',
      tenantExternalId: workspace,
      // Slack does not retry slash commands; the trigger id still makes a replay harmless.
      eventId: `command:${command.trigger_id}`,
      channelId: command.channel_id,
      threadId: null,
      caller: this.caller(client, workspace, command.user_id),
      text: command.text ?? '',
      kind: 'command',
      addressed: true,
      isDirect,
    };
    const target = { channel: command.channel_id, threadTs: null, userId: command.user_id, teamId: context.teamId ?? workspace, isDirect };
    await this.d.engine.handle(msg, this.sink(client, token, workspace, target, { lazy: true, respond: (m) => respond(m) }));
  }

  /**
   * Deletes the workspace's tokens and marks the tenant uninstalled: once per delivery, and never
   * for an event older than the installation now stored (a replayed or late uninstall must not
   * delete a fresh re-install).
   */
  async uninstall(workspace: string | undefined, body: { event_id?: string; event_time?: number }, why: string): Promise<void> {
    if (!workspace) return;
    if (body.event_id && !(await this.d.dedupe.firstDelivery('slack', `lifecycle:${body.event_id}`))) {
      this.d.logger.info({ workspace, why, eventId: body.event_id }, 'slack lifecycle event already handled');
      return;
    }
    const storedAt = await this.d.store.storedAt(workspace);
    // Slack's event_time has whole seconds: allow for that before calling an event older.
    if (storedAt && typeof body.event_time === 'number' && body.event_time * 1000 < storedAt.getTime() - 1000) {
      this.d.logger.warn({ workspace, why, eventTime: body.event_time, installedAt: storedAt.toISOString() }, 'slack lifecycle event older than the current installation ignored');
      return;
    }
    await this.d.store.deleteByKey(workspace);
    await this.d.tenants.markUninstalled('slack', workspace);
    this.d.logger.info({ workspace, why }, 'slack app uninstalled; tokens deleted');
  }

  private caller(client: WebClient, workspace: string, userId: string) {
    return { userId, isAdmin: () => this.d.admin.isAdmin(client, workspace, userId) };
  }

  private sink(client: WebClient, token: string, workspace: string, target: SlackReplyTarget, extra: Partial<SlackReplySinkOptions> = {}): SlackReplySink {
    return new SlackReplySink({
      client,
      progressClient: this.d.progressClient(token),
      target,
      streaming: this.d.streaming,
      workspace,
      logger: this.d.logger,
      maxMessageChars: this.d.maxMessageChars,
      minUpdateIntervalMs: this.d.minUpdateIntervalMs,
      ...extra,
    });
  }
}

function lifecycleKey(body: unknown, context: Context): string | undefined {
  const b = body as { is_enterprise_install?: boolean; enterprise_id?: string; team_id?: string };
  return b.is_enterprise_install ? b.enterprise_id : (b.team_id ?? context.teamId);
}
