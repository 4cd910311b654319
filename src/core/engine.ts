/**
 * The one pipeline every platform uses: dedupe, tenant, channel settings, then either a command
 * or an answer. Adapters verify and ack; the engine decides and replies through the sink.
 */
import type { Logger } from '../logger.js';
import type { MetricRegistry } from '../metrics.js';
import type { AnswerProgress, HandleOutcome, MessageHandler } from '../ports/engine.js';
import { interruptionOf } from './interruption.js';
import { asBotError, BotError, ErrorCode, vocabularies } from '../ports/errors.js';
import type { InboundMessage } from '../ports/messages.js';
import type { ReplySink } from '../ports/reply.js';
import type { ChannelSettingsStore, ConversationStore, DeliveryDedupe, TenantDirectory } from '../ports/stores.js';
import type { Tenant } from '../ports/tenancy.js';
import { hasCommandPrefix, readCommand } from './commands/read-command.js';
import type { Command } from './commands/registry.js';
import { ReplyStream } from './reply/stream.js';
import type { CommandHandlers } from './commands/handlers.js';
import type { AskPipeline } from './ask.js';
import { outcome } from './outcome.js';
import { MessageMetrics } from './message-metrics.js';

export interface EngineDeps {
  tenants: TenantDirectory;
  channels: ChannelSettingsStore;
  memory: ConversationStore;
  dedupe: DeliveryDedupe;
  commands: CommandHandlers;
  ask: AskPipeline;
  /** The engine registers its own metrics here (message outcomes, faults). */
  metrics: MetricRegistry;
  logger: Logger;
  /** Longest question accepted (MAX_QUESTION_CHARS); longer ones are refused before anything is stored. */
  maxQuestionChars?: number;
  /** Put the message text into the per-message log line (off by default: text is private). */
  logMessageText?: boolean;
}

export class Engine implements MessageHandler {
  private readonly metrics: MessageMetrics;

  constructor(private readonly deps: EngineDeps) {
    this.metrics = new MessageMetrics(deps.metrics);
  }

  async handle(msg: InboundMessage, sink: ReplySink, progress?: AnswerProgress): Promise<HandleOutcome> {
    const started = performance.now();
    // One reply object per message: whatever path answers, it finishes exactly once.
    const reply = new ReplyStream(sink, this.deps.logger);
    const result = await this.route(msg, reply, progress).catch(async (err: unknown) => {
      // Handed back unfinished (shutdown): the reply stays as it is for whoever resumes it.
      const interrupted = interruptionOf(msg, err);
      if (interrupted) {
        reply.abandon();
        throw interrupted;
      }
      const error = asBotError(err);
      // A refusal is a decision, logged once below; a fault gets its stack here.
      if (!error.expected) {
        this.deps.logger.error({ platform: msg.platform, tenant: msg.tenantExternalId, code: error.code, err }, 'message handling failed');
      }
      const replied = await reply
        .finish(error.userText(vocabularies[msg.platform]), { kind: error.expected ? 'notice' : 'error', ephemeral: error.expected })
        .then(() => true)
        .catch(() => false);
      return outcome(error.expected ? 'refused' : 'failed', replied, error.code);
    });
    // Nothing was said: take down whatever the platform shows meanwhile (a deferral's "thinking…").
    if (!result.replied) await sink.unused?.().catch(() => undefined);
    this.metrics.handled(msg.platform, result);
    this.logOutcome(msg, result, performance.now() - started);
    return result;
  }

  /** One line per message: what happened, how long it took, what went into the answer. */
  private logOutcome(msg: InboundMessage, result: HandleOutcome, ms: number): void {
    const quiet = result.status === 'ignored' || result.status === 'duplicate';
    const line = {
      platform: msg.platform,
      tenant: msg.tenantExternalId,
      channel: msg.channelId,
      status: result.status,
      replied: result.replied,
      ...(result.code ? { code: result.code } : {}),
      ms: Math.round(ms),
      ...(result.answer ?? {}),
      ...(this.deps.logMessageText ? { question: msg.text } : {}),
    };
    if (quiet) this.deps.logger.debug(line, 'message handled');
    else this.deps.logger.info(line, 'message handled');
  }

  private async route(msg: InboundMessage, reply: ReplyStream, progress?: AnswerProgress): Promise<HandleOutcome> {
    const { dedupe, tenants, channels, logger } = this.deps;
    const words = vocabularies[msg.platform];
    // Independent round trips go together: each sequential one adds to every answer's latency.
    const [first, tenant] = await Promise.all([
      msg.eventId ? dedupe.firstDelivery(msg.platform, msg.eventId) : true,
      msg.platform === 'console'
        ? tenants.ensure('console', msg.tenantExternalId)
        : tenants.resolve(msg.platform, msg.tenantExternalId),
    ]);
    if (!first) {
      logger.debug({ platform: msg.platform, eventId: msg.eventId }, 'duplicate delivery ignored');
      return outcome('duplicate', false);
    }
    if (!tenant) {
      logger.warn({ platform: msg.platform, tenant: msg.tenantExternalId }, 'message for a tenant that was never installed');
      return outcome('no_tenant', false);
    }
    if (tenant.status !== 'active') {
      logger.info({ tenantId: tenant.tenantId, status: tenant.status }, 'message for an inactive tenant ignored');
      // An uninstalled app cannot post; a disabled tenant is told why, once asked directly.
      if (tenant.status === 'disabled' && msg.addressed) {
        await reply.finish(new BotError(ErrorCode.TenantDisabled).userText(words), { kind: 'notice' });
        return outcome('tenant_inactive', true, ErrorCode.TenantDisabled);
      }
      return outcome('tenant_inactive', false);
    }

    // A reply in a thread the bot is already answering in continues that conversation, as if
    // the bot had been mentioned.
    if (!msg.addressed && !msg.isDirect && msg.threadId && msg.kind === 'message') {
      if (await this.deps.memory.botAnswered(tenant, { channelId: msg.channelId, threadId: msg.threadId })) {
        msg = { ...msg, addressed: true };
      }
    }
    const command = this.commandOf(msg);
    if (command && command.id !== 'ask') {
      const answer = await this.deps.commands.run(tenant, msg, command);
      await reply.finish(answer.text, { kind: 'notice', ephemeral: answer.private });
      return outcome('command', true);
    }

    const settings = await channels.get(tenant, msg.channelId);
    const question = command?.id === 'ask' ? command.args.question : msg.text.trim();
    if (!question) return outcome('ignored', false);
    if (settings.mode === 'off' && !msg.isDirect) {
      // Explicit requests learn why nothing happens; ambient chatter stays quiet.
      if (!msg.addressed) return outcome('ignored', false);
      await reply.finish(new BotError(ErrorCode.ChannelOff).userText(words), { kind: 'notice', ephemeral: true });
      return outcome('ignored', true, ErrorCode.ChannelOff);
    }
    if (!this.shouldAnswer(msg, settings.mode)) return outcome('ignored', false);
    this.checkLength(question);
    return this.deps.ask.answer(tenant as Tenant, msg, question, settings, reply, progress);
  }

  /** A question past MAX_QUESTION_CHARS is refused before it is stored or reaches the model. */
  private checkLength(question: string): void {
    const max = this.deps.maxQuestionChars;
    if (max === undefined || question.length <= max) return;
    // The intake may have cut the text to one character past the limit: say the limit, not the length.
    throw new BotError(ErrorCode.QuestionTooLong, `That question is longer than the ${max.toLocaleString('en-US')} characters I can take. Please shorten it.`);
  }

  /** A command, a question, or null for chatter that is not addressed to the bot. Throws a BotError for bad syntax. */
  private commandOf(msg: InboundMessage): Command | null {
    const commandLine = msg.kind === 'command' || hasCommandPrefix(msg.text);
    if (!commandLine && !msg.addressed) return null;
    return readCommand(msg.text, { commandLine });
  }

  private shouldAnswer(msg: InboundMessage, mode: 'mention' | 'all' | 'off'): boolean {
    if (msg.isDirect || msg.kind === 'command') return true;
    return mode === 'all' || msg.addressed;
  }
}

