/**
 * The one pipeline every platform uses: dedupe, tenant, channel settings, then either a command
 * or an answer. Adapters verify and ack; the engine decides and replies through the sink.
 */
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { TenantRegistry, Tenant } from '../tenancy/registry.js';
import type { ChannelSettingsStore } from '../channels/settings.js';
import type { ConversationMemory } from '../memory/store.js';
import type { EventDeduper } from './dedupe.js';
import type { InboundMessage, ReplySink } from './ports.js';
import { UserFacingError } from './ports.js';
import { parseCommand, stripPrefix, type Command } from './commands/grammar.js';
import type { CommandHandlers } from './commands/handlers.js';
import type { AskPipeline } from './ask.js';
import { replies } from './replies.js';

export interface EngineDeps {
  tenants: TenantRegistry;
  channels: ChannelSettingsStore;
  memory: ConversationMemory;
  dedupe: EventDeduper;
  commands: CommandHandlers;
  ask: AskPipeline;
  metrics: Metrics;
  logger: Logger;
}

export type HandleOutcome =
  | 'duplicate'
  | 'no_tenant'
  | 'tenant_inactive'
  | 'ignored'
  | 'command'
  | 'answered'
  | 'refused'
  | 'failed';

export class Engine {
  constructor(private readonly deps: EngineDeps) {}

  async handle(msg: InboundMessage, sink: ReplySink): Promise<HandleOutcome> {
    const outcome = await this.route(msg, sink).catch(async (err) => {
      this.deps.logger.error({ err, platform: msg.platform, tenant: msg.tenantExternalId }, 'message handling failed');
      this.deps.metrics.errors.inc({ component: 'engine', kind: 'internal' });
      await sink.finish(replies.internal, { kind: 'error' }).catch(() => {});
      return 'failed' as const;
    });
    this.deps.metrics.messages.inc({ platform: msg.platform, outcome });
    return outcome;
  }

  private async route(msg: InboundMessage, sink: ReplySink): Promise<HandleOutcome> {
    const { dedupe, tenants, channels, logger } = this.deps;
    // Independent round trips go together: each sequential one adds to every answer's latency.
    const [first, tenant] = await Promise.all([
      msg.eventId ? dedupe.firstDelivery(msg.platform, msg.eventId) : true,
      msg.platform === 'console'
        ? tenants.ensure('console', msg.tenantExternalId)
        : tenants.resolve(msg.platform, msg.tenantExternalId),
    ]);
    if (!first) {
      logger.debug({ platform: msg.platform, eventId: msg.eventId }, 'duplicate delivery ignored');
      return 'duplicate';
    }
    if (!tenant) {
      logger.warn({ platform: msg.platform, tenant: msg.tenantExternalId }, 'message for a tenant that was never installed');
      return 'no_tenant';
    }
    if (tenant.status !== 'active') {
      logger.info({ tenant: tenant.tenantId, status: tenant.status }, 'message for an inactive tenant ignored');
      // An uninstalled app cannot post; a disabled tenant is told why, once asked directly.
      if (tenant.status === 'disabled' && msg.addressed) await sink.finish(replies.disabled, { kind: 'notice' });
      return 'tenant_inactive';
    }

    // A reply in a thread the bot is already answering in continues that conversation, as if
    // the bot had been mentioned.
    if (!msg.addressed && !msg.isDirect && msg.threadId && msg.kind === 'message') {
      if (await this.deps.memory.botAnswered(tenant, { channelId: msg.channelId, threadId: msg.threadId })) {
        msg = { ...msg, addressed: true };
      }
    }
    const command = this.commandOf(msg);
    if (command instanceof UserFacingError) {
      await sink.finish(command.message, { kind: 'notice', ephemeral: true });
      return 'refused';
    }
    if (command && command.type !== 'ask') {
      await this.deps.commands.run(tenant, msg, command, sink);
      return 'command';
    }

    const settings = await channels.get(tenant, msg.channelId);
    const question = command?.type === 'ask' ? command.question : msg.text.trim();
    if (!question) return 'ignored';
    if (settings.mode === 'off' && !msg.isDirect) {
      // Explicit requests learn why nothing happens; ambient chatter stays quiet.
      if (msg.addressed) await sink.finish(replies.channelOff, { kind: 'notice', ephemeral: true });
      return 'ignored';
    }
    if (!this.shouldAnswer(msg, settings.mode)) return 'ignored';
    return this.deps.ask.answer(tenant as Tenant, msg, question, settings, sink);
  }

  /** A command, a question, or null for chatter that is not addressed to the bot. */
  private commandOf(msg: InboundMessage): Command | UserFacingError | null {
    const isCommandLine = msg.kind === 'command' || /^\/llm\b/i.test(msg.text.trim());
    if (!isCommandLine && !msg.addressed) return null;
    try {
      return parseCommand(isCommandLine ? msg.text : stripPrefix(msg.text));
    } catch (err) {
      if (err instanceof UserFacingError) return err;
      throw err;
    }
  }

  private shouldAnswer(msg: InboundMessage, mode: 'mention' | 'all' | 'off'): boolean {
    if (msg.isDirect || msg.kind === 'command') return true;
    return mode === 'all' || msg.addressed;
  }
}
