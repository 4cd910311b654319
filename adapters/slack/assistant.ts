/**
 * Slack's AI-app surface around the answers: suggested prompts when a user opens an assistant
 * thread (or the agent view's conversation), the buttons on answers (stop, feedback) and Slack's
 * own stop control (`agent_session_stopped`). Clicks go to the core's AnswerControls; what the
 * clicker reads is posted to them alone (chat.postEphemeral). Cosmetic calls (prompts) run after
 * the ack and never fail a delivery; their failures are logged.
 */
import type { App, Context } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../src/logger.js';
import type { AnswerControls, ControlReply } from '../../src/ports/controls.js';
import type { Caller } from '../../src/ports/messages.js';
import { defaultSuggestedPrompts, type FeedbackValue, type TenantDirectory } from '../../src/ports/stores.js';
import { answerIdOfFeedbackBlock, FEEDBACK_ACTION, STOP_ACTION } from './answer-blocks.js';
import type { SlackAdminCheck } from './inbound.js';
import { workspaceKeyOf } from './listeners.js';
import { failureOf } from './reply-parts.js';

export interface AssistantDeps {
  controls: AnswerControls;
  tenants: Pick<TenantDirectory, 'resolve'>;
  admin: SlackAdminCheck;
  /** The workspace's client for a bot token (bounded retries). */
  clientFor(token: string): WebClient;
  logger: Logger;
  /** Told when a listener here is done with a delivery (tests wait on it). */
  onHandled?: (what: string) => void;
}

/** A prompt's title: what the button shows (Slack keeps titles short). */
const PROMPT_TITLE_MAX = 40;
/** The agent view's conversation gets its prompts again at most this often per user. */
const HOME_PROMPTS_EVERY_MS = 10 * 60_000;

interface ActionBody {
  user?: { id?: string };
  channel?: { id?: string };
  container?: { channel_id?: string; thread_ts?: string; message_ts?: string };
  message?: { ts?: string; thread_ts?: string };
}

interface ClickedAction {
  action_id?: string;
  block_id?: string;
  value?: string;
}

export function registerAssistant(app: App, d: AssistantDeps): void {
  const a = new AssistantListeners(d);
  app.event('assistant_thread_started', ({ event, context }) =>
    a.track('assistant_thread_started', () => a.threadStarted(context, event.assistant_thread.channel_id, event.assistant_thread.thread_ts)),
  );
  app.event('assistant_thread_context_changed', async () => {
    // The answers do not read the channel the user looks at: nothing to keep.
    d.onHandled?.('assistant_thread_context_changed');
  });
  app.event('app_home_opened', ({ event, context }) =>
    a.track('app_home_opened', async () => {
      if (event.tab === 'messages') await a.homeOpened(context, event.channel, event.user);
    }),
  );
  app.event('agent_session_stopped', ({ event, context }) =>
    a.track('agent_session_stopped', () => a.sessionStopped(context, event.channel, event.thread_ts, event.user)),
  );
  app.action(STOP_ACTION, async ({ ack, body, action, context }) => {
    await ack();
    await a.track('answer_stop', () => a.stopClicked(context, body as ActionBody, action as ClickedAction));
  });
  app.action(FEEDBACK_ACTION, async ({ ack, body, action, context }) => {
    await ack();
    await a.track('answer_feedback', () => a.feedbackClicked(context, body as ActionBody, action as ClickedAction));
  });
}

class AssistantListeners {
  private readonly promptedHomes = new LRUCache<string, true>({ max: 10_000, ttl: HOME_PROMPTS_EVERY_MS });

  constructor(private readonly d: AssistantDeps) {}

  /** Runs a listener's work; a failure is logged (a cosmetic call or a click never fails a delivery). */
  async track(what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.d.logger.warn({ err: failureOf(err) ?? String(err), what }, 'slack assistant listener failed');
    } finally {
      this.d.onHandled?.(what);
    }
  }

  async threadStarted(context: Context, channel: string, threadTs: string): Promise<void> {
    const client = this.client(context);
    const prompts = await this.promptsOf(context);
    if (!client || !prompts) return;
    await client.assistant.threads.setSuggestedPrompts({ channel_id: channel, thread_ts: threadTs, title: 'Try asking', prompts });
  }

  /** The agent view opens the app's conversation (no thread yet): the prompts sit at its top. */
  async homeOpened(context: Context, channel: string, user: string): Promise<void> {
    const key = `${workspaceKeyOf(context)}\u0000${user}`;
    if (this.promptedHomes.has(key)) return;
    const client = this.client(context);
    const prompts = await this.promptsOf(context);
    if (!client || !prompts) return;
    this.promptedHomes.set(key, true);
    await client.assistant.threads.setSuggestedPrompts({ channel_id: channel, title: 'Try asking', prompts });
  }

  async sessionStopped(context: Context, channel: string, threadTs: string, user: string): Promise<void> {
    const workspace = workspaceKeyOf(context);
    const client = this.client(context);
    if (!workspace || !client) return;
    const reply = await this.d.controls.stopIn({ platform: 'slack', tenantExternalId: workspace, caller: this.caller(client, workspace, user), channelId: channel, threadId: threadTs });
    // The native control shows its own state; only a refusal needs words.
    if (!reply.done) await this.tell(client, { channel, user, threadTs }, reply);
  }

  async stopClicked(context: Context, body: ActionBody, action: ClickedAction): Promise<void> {
    const where = this.where(context, body);
    if (!where || !action.value) return;
    const reply = await this.d.controls.stop({ platform: 'slack', tenantExternalId: where.workspace, caller: this.caller(where.client, where.workspace, where.user), answerId: action.value });
    await this.tell(where.client, where, reply);
  }

  async feedbackClicked(context: Context, body: ActionBody, action: ClickedAction): Promise<void> {
    const where = this.where(context, body);
    const answerId = answerIdOfFeedbackBlock(action.block_id);
    const value = action.value;
    if (!where || !answerId || (value !== 'positive' && value !== 'negative')) return;
    const reply = await this.d.controls.feedback({
      platform: 'slack',
      tenantExternalId: where.workspace,
      caller: this.caller(where.client, where.workspace, where.user),
      answerId,
      value: value as FeedbackValue,
    });
    await this.tell(where.client, where, reply);
  }

  private where(context: Context, body: ActionBody) {
    const workspace = workspaceKeyOf(context);
    const client = this.client(context);
    const user = body.user?.id;
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (!workspace || !client || !user || !channel) return null;
    const threadTs = body.message?.thread_ts ?? body.container?.thread_ts;
    return { workspace, client, user, channel, ...(threadTs ? { threadTs } : {}) };
  }

  private caller(client: WebClient, workspace: string, userId: string): Caller {
    return { userId, isAdmin: () => this.d.admin.isAdmin(client, workspace, userId) };
  }

  /** The clicker alone reads the outcome. */
  private async tell(client: WebClient, to: { channel: string; user: string; threadTs?: string }, reply: ControlReply): Promise<void> {
    await client.chat.postEphemeral({ channel: to.channel, user: to.user, text: reply.text, ...(to.threadTs ? { thread_ts: to.threadTs } : {}) });
  }

  private client(context: Context): WebClient | null {
    return context.botToken ? this.d.clientFor(context.botToken) : null;
  }

  /** The workspace's prompts (or the built-in ones), as Slack's { title, message }. */
  private async promptsOf(context: Context): Promise<{ title: string; message: string }[] | null> {
    const workspace = workspaceKeyOf(context);
    if (!workspace) return null;
    const tenant = await this.d.tenants.resolve('slack', workspace);
    if (!tenant || tenant.status !== 'active') return null;
    return (tenant.suggestedPrompts ?? defaultSuggestedPrompts).map((p) => ({ title: p.length > PROMPT_TITLE_MAX ? `${p.slice(0, PROMPT_TITLE_MAX - 1)}…` : p, message: p }));
  }
}
