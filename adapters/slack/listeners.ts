/**
 * Bolt listeners: mentions, DMs, channel messages, the /llm command and the app's lifecycle
 * events. A message or command becomes an answer job, stored before Slack gets its ack (the
 * receiver holds the HTTP response until the listener returns): if it cannot be stored, the
 * listener throws AcceptFailed and Slack is answered 503, so it delivers again. The answer runs
 * after the ack, from the job (restore.ts rebuilds it, on this or another instance).
 */
import type { AllMiddlewareArgs, App, Context, SlackCommandMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { Logger } from '../../src/logger.js';
import type { TenantRegistry } from '../../src/tenancy/registry.js';
import { stripBotMention, type SlackFileLike } from './inbound.js';
import type { PostgresInstallationStore } from './installation-store.js';
import type { AnswerIntake, NewDelivery } from '../../src/ports/jobs.js';
import type { DeliveryDedupe } from '../../src/ports/stores.js';
import type { SlackDelivery } from './restore.js';

/** What a slash command's user reads when their command could not be stored (Slack never resends a command). */
const COMMAND_NOT_ACCEPTED = "I can't take commands right now (my database is unavailable). Please try again in a minute.";

export interface SlackListenerDeps {
  /** Where deliveries are stored durably before Slack gets its ack. */
  intake: AnswerIntake;
  tenants: Pick<TenantRegistry, 'markUninstalled'>;
  store: PostgresInstallationStore;
  /** Lifecycle events (uninstall, revoke) are acted on once per delivery id. */
  dedupe: DeliveryDedupe;
  logger: Logger;
  /** Called when a listener is done with a delivery it did not hand over as a job (tests wait on it). */
  onHandled?: (what: string) => void;
}

/** The delivery could not be stored: Slack must be answered non-2xx so it delivers it again. */
export class AcceptFailed extends Error {
  constructor(cause: unknown) {
    super('the delivery could not be stored', { cause });
    this.name = 'AcceptFailed';
  }
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
  app.command('/llm', (args) => l.track('command', () => l.command(args)));
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
    d.onHandled?.('error');
    // Not stored (or the installation could not be read): Slack must send it again, so the
    // error goes on to the receiver, which answers 503.
    if (mustRetry(err)) throw err;
    d.logger.warn({ code: (err as { code?: string }).code, err: err.message.replace(/xox[a-z]-[A-Za-z0-9-]+/g, '[token]') }, 'slack listener error');
  });
}

class SlackListeners {
  constructor(private readonly d: SlackListenerDeps) {}

  /**
   * Runs a listener's work. A delivery handed over as a job is reported done by the job; anything
   * else (ignored, a duplicate, a lifecycle event) is reported here.
   */
  async track(what: string, work: () => Promise<void | 'accepted'>): Promise<void> {
    let accepted = false;
    try {
      accepted = (await work()) === 'accepted';
    } finally {
      if (!accepted) this.d.onHandled?.(what);
    }
  }

  async mention({ event, body, context }: MentionArgs): Promise<void | 'accepted'> {
    const workspace = workspaceKeyOf(context);
    const e = event as typeof event & { files?: SlackFileLike[]; bot_id?: string };
    if (!workspace || !e.user || e.bot_id) return;
    const threadTs = e.thread_ts ?? e.ts;
    return this.acceptChat({
      body,
      context,
      workspace,
      event: e,
      user: e.user,
      threadTs,
      isDirect: false,
      addressed: true,
      // A first mention inside an existing thread brings the thread along (read when answering).
      historyBefore: e.thread_ts && e.thread_ts !== e.ts ? e.ts : null,
    });
  }

  async message({ event, body, context }: MessageArgs): Promise<void | 'accepted'> {
    const e = event as unknown as SlackMessageEvent;
    const workspace = workspaceKeyOf(context);
    // Edits, joins, other bots (and, through Bolt's ignoreSelf, this bot) are not people talking.
    if (!workspace || !e.user || e.bot_id || !PERSON_SUBTYPES.has(e.subtype)) return;
    const isDirect = e.channel_type === 'im';
    // A channel message that mentions the bot also arrives as app_mention; answer that one only.
    if (!isDirect && context.botUserId && (e.text ?? '').includes(`<@${context.botUserId}`)) return;
    const threadTs = isDirect ? (e.thread_ts ?? null) : (e.thread_ts ?? e.ts);
    // The engine decides by channel mode whether ambient channel chatter gets an answer.
    return this.acceptChat({ body, context, workspace, event: e, user: e.user, threadTs, isDirect, addressed: isDirect, historyBefore: null });
  }

  /** A mention or a message, stored as an answer job on its thread. */
  private async acceptChat(a: {
    body: unknown;
    context: MentionArgs['context'];
    workspace: string;
    event: { channel: string; text?: string; files?: SlackFileLike[] };
    user: string;
    threadTs: string | null;
    isDirect: boolean;
    addressed: boolean;
    historyBefore: string | null;
  }): Promise<void | 'accepted'> {
    const { event: e, workspace, context } = a;
    const eventId = (a.body as { event_id?: string }).event_id;
    if (!eventId) return;
    const delivery: SlackDelivery = {
      kind: 'event',
      ...installationOf(context, workspace),
      channel: e.channel,
      threadTs: a.threadTs,
      isDirect: a.isDirect,
      addressed: a.addressed,
      historyBefore: a.historyBefore,
      files: e.files ?? [],
    };
    return this.accept({
      platform: 'slack',
      tenantExternalId: workspace,
      eventId,
      channelId: e.channel,
      threadId: a.threadTs,
      userId: a.user,
      text: stripBotMention(e.text ?? '', context.botUserId),
      delivery: delivery as unknown as Record<string, unknown>,
      mergeable: true,
    });
  }

  async command({ command, context, ack }: CommandArgs): Promise<void | 'accepted'> {
    const workspace = workspaceKeyOf(context);
    if (!workspace) return void (await ack());
    const isDirect = command.channel_name === 'directmessage' || command.channel_id.startsWith('D');
    const delivery: SlackDelivery = {
      kind: 'command',
      ...installationOf(context, workspace),
      channel: command.channel_id,
      threadTs: null,
      isDirect,
      addressed: true,
      historyBefore: null,
      files: [],
    };
    try {
      const outcome = await this.accept({
        platform: 'slack',
        tenantExternalId: workspace,
        // Slack does not retry slash commands; the trigger id still makes a replay harmless.
        eventId: `command:${command.trigger_id}`,
        channelId: command.channel_id,
        threadId: null,
        userId: command.user_id,
        text: command.text ?? '',
        delivery: delivery as unknown as Record<string, unknown>,
        secrets: { responseUrl: command.response_url },
        // A slash command is answered on its own (ephemeral or through its response_url).
        mergeable: false,
      });
      await ack();
      return outcome;
    } catch (err) {
      // Slack never sends a command again: the user hears at once that it was not taken.
      this.d.logger.error({ err }, 'slack command could not be accepted');
      await ack({ response_type: 'ephemeral', text: COMMAND_NOT_ACCEPTED });
    }
  }

  /** Stores the job (Slack gets its ack after this); a failure becomes AcceptFailed (503: Slack retries). */
  private async accept(d: NewDelivery): Promise<void | 'accepted'> {
    let outcome;
    try {
      outcome = await this.d.intake.accept(d);
    } catch (err) {
      throw new AcceptFailed(err);
    }
    if (outcome === 'accepted') return 'accepted';
    this.d.logger.debug({ eventId: d.eventId, outcome }, 'slack delivery not run');
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
}

function lifecycleKey(body: unknown, context: Context): string | undefined {
  const b = body as { is_enterprise_install?: boolean; enterprise_id?: string; team_id?: string };
  return b.is_enterprise_install ? b.enterprise_id : (b.team_id ?? context.teamId);
}

/** Where to find the workspace's installation again when the job runs. */
function installationOf(context: Context, workspace: string): Pick<SlackDelivery, 'teamId' | 'enterpriseId' | 'isEnterpriseInstall'> {
  return { teamId: context.teamId ?? workspace, enterpriseId: context.enterpriseId ?? null, isEnterpriseInstall: context.isEnterpriseInstall === true };
}

/**
 * Errors after which Slack must deliver again: the job was not stored, or the installation could
 * not be read (Bolt wraps an authorize failure; the store's error is in its cause chain).
 */
export function mustRetry(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown; original?: unknown }).original ?? (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof AcceptFailed || (e as Error).name === 'InstallationStoreUnavailable') return true;
  }
  return false;
}
