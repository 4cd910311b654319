/**
 * Runs parsed commands: checks the caller's role against the registry, then calls the command's
 * handler and returns its reply for the engine to send. Permission comes from the adapter
 * (caller.isAdmin); every admin change writes an audit row. Refusals are thrown as BotErrors so
 * the engine replies and logs them like any other refusal.
 */
import { BotError, ErrorCode, vocabularies } from '../../ports/errors.js';
import type { InboundMessage } from '../../ports/messages.js';
import type { Tenant } from '../../ports/tenancy.js';
import { specOf, type Command, type CommandId } from './registry.js';
import type { CommandContext, CommandDeps, Handler, HandlerTable } from './handlers/context.js';
import { channelHandlers } from './handlers/channel.js';
import { knowledgeHandlers } from './handlers/knowledge.js';
import { personaHandlers } from './handlers/persona.js';
import { retentionHandlers } from './handlers/retention.js';
import { workspaceHandlers } from './handlers/workspace.js';
import { answerHandlers } from './handlers/answers.js';

export type { CommandDeps } from './handlers/context.js';

export interface CommandReply {
  text: string;
  /** Only the caller should see it, where the platform allows. */
  private: boolean;
}

/** Every command but `ask` has exactly one handler: the type fails to check if one is missing. */
const handlers: HandlerTable = { ...personaHandlers, ...channelHandlers, ...knowledgeHandlers, ...retentionHandlers, ...workspaceHandlers, ...answerHandlers };

export class CommandHandlers {
  constructor(private readonly deps: CommandDeps) {}

  async run(tenant: Tenant, msg: InboundMessage, command: Command): Promise<CommandReply> {
    if (command.id === 'ask') throw new Error('ask is answered by the pipeline');
    const spec = specOf(command.id);
    let role: Promise<boolean> | undefined;
    const ctx: CommandContext = {
      tenant,
      msg,
      actor: msg.caller.userId,
      channel: msg.channelId,
      vocabulary: vocabularies[msg.platform],
      // Asking costs a platform call (Slack users.info): only commands that depend on it ask, once.
      isAdmin: () => (role ??= msg.caller.isAdmin()),
      deps: this.deps,
    };
    if (spec.admin && !(await ctx.isAdmin())) throw new BotError(ErrorCode.AdminOnly);
    // TypeScript cannot pair a handler with its own command's arguments through the union.
    const handler = handlers[command.id] as Handler<Exclude<CommandId, 'ask'>>;
    const reply = await handler(ctx, command.args as never);
    return { text: reply.text, private: reply.private ?? spec.private };
  }
}
