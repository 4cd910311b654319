/** What every command handler gets, and the table that maps each command id to its handler. */
import type { Admission } from '../../../ports/admission.js';
import type { Vocabulary } from '../../../ports/errors.js';
import type { KnowledgeBase } from '../../../ports/knowledge.js';
import type { InboundMessage } from '../../../ports/messages.js';
import type { AnswerBook, AuditTrail, ChannelSettingsStore, ConversationStore, PersonaCatalog, TenantDirectory, UsageLedger } from '../../../ports/stores.js';
import type { Tenant } from '../../../ports/tenancy.js';
import type { CommandId, CommandOf } from '../registry.js';

export interface CommandDeps {
  tenants: TenantDirectory;
  channels: ChannelSettingsStore;
  memory: ConversationStore;
  personas: PersonaCatalog;
  usage: UsageLedger;
  audit: AuditTrail;
  /** Answers and the feedback on them (`feedback`). */
  answers: AnswerBook;
  /** Ingestion embeds on the shared backend, so it waits for a slot like a question does. */
  admission: Admission;
  knowledge?: KnowledgeBase;
  /** Why knowledge is off, shown to users when `knowledge` is undefined. */
  knowledgeUnavailable?: string;
}

export interface CommandContext {
  tenant: Tenant;
  msg: InboundMessage;
  /** Who runs the command; audit rows name them. */
  actor: string;
  channel: string;
  vocabulary: Vocabulary;
  /** The caller's role, asked of the platform at most once (Slack: a users.info call). */
  isAdmin(): Promise<boolean>;
  deps: CommandDeps;
}

export interface HandlerReply {
  text: string;
  /** Overrides the command's `private` for this reply. */
  private?: boolean;
}

export type Handler<K extends CommandId> = (ctx: CommandContext, args: CommandOf<K>['args']) => Promise<HandlerReply>;

/** `ask` is the answer pipeline's, not a handler's. */
export type HandlerTable = { [K in Exclude<CommandId, 'ask'>]: Handler<K> };
