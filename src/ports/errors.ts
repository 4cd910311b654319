/**
 * Coded errors, after bolt-js's ErrorCode: every failure the core knows carries a stable code,
 * and what the user reads is chosen by that code and the platform's vocabulary ("workspace
 * admins" on Slack, "members with Manage Server" on Discord). The same failure reads the same on
 * every platform. Refusals (`expected`) are decisions, not faults: they are logged as one line,
 * never with a stack.
 */
import type { Platform } from './tenancy.js';

export const ErrorCode = {
  /** A line that looks like a command but is none (`/llm foo`). */
  CommandUnknown: 'command_unknown',
  /** A known command with bad arguments. */
  CommandUsage: 'command_usage',
  AdminOnly: 'admin_only',
  /** The caller belongs to another workspace (a shared channel) and may not do this. */
  CallerForeign: 'caller_foreign',
  NotFound: 'not_found',
  InvalidInput: 'invalid_input',
  /** A per-tenant count limit (documents, personas) would be exceeded. */
  LimitReached: 'limit_reached',
  QuotaExhausted: 'quota_exhausted',
  QuestionTooLong: 'question_too_long',
  BusyTenantQueue: 'busy_tenant_queue',
  BusyGlobalQueue: 'busy_global_queue',
  BusyWaitTimeout: 'busy_wait_timeout',
  /** The tenant's requests-per-minute budget is used up for longer than a question may wait. */
  BusyRateLimited: 'busy_rate_limited',
  LlmUnreachable: 'llm_unreachable',
  LlmUnknownModel: 'llm_unknown_model',
  LlmOverloaded: 'llm_overloaded',
  LlmStalled: 'llm_stalled',
  LlmTimeout: 'llm_timeout',
  LlmAborted: 'llm_aborted',
  LlmFailed: 'llm_failed',
  FileUnsupported: 'file_unsupported',
  FileTooLarge: 'file_too_large',
  FileUnreadable: 'file_unreadable',
  FileDownloadFailed: 'file_download_failed',
  /** A file link that does not point at the platform's own file host. */
  FileForeignHost: 'file_foreign_host',
  KnowledgeUnavailable: 'knowledge_unavailable',
  TenantDisabled: 'tenant_disabled',
  ChannelOff: 'channel_off',
  /** A fault of ours: the user reads a generic apology, the log gets the stack. */
  Internal: 'internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Words, and the way channels are written, that differ between platforms. */
export interface Vocabulary {
  /** Who may change settings. */
  admins: string;
  /** What a tenant is called. */
  workspace: string;
  /** A channel as the platform shows it: Slack `<#C123>`, Discord `<#123>`, the console its name. */
  channel(id: string): string;
  /** The channel id a typed reference names (`<#C123|general>`, `<#123>`, `#general`), or null. */
  channelId(typed: string): string | null;
  /** How to name a channel in a command, for a reference that names none. */
  channelHint: string;
}

/** Slack channel links (`<#C123>` or `<#C123|name>`) and bare ids; public, private and DM ids. */
const slackChannel = /^(?:<#([CGD][A-Z0-9]{2,})(?:\|[^>]*)?>|([CGD][A-Z0-9]{6,}))$/;
/** Discord channel mentions (`<#123>`) and bare snowflakes. */
const discordChannel = /^(?:<#(\d{15,21})>|(\d{15,21}))$/;
/** Console channels are plain names (`general` or `#general`). */
const consoleChannel = /^#?([^\s#<>*|]{1,80})$/;

const idOf = (pattern: RegExp) => (typed: string) => {
  const m = pattern.exec(typed.trim());
  return m ? (m[1] ?? m[2] ?? null) : null;
};

export const vocabularies: Record<Platform, Vocabulary> = {
  slack: {
    admins: 'workspace admins',
    workspace: 'workspace',
    channel: (id) => `<#${id}>`,
    channelId: idOf(slackChannel),
    channelHint: 'type # and pick the channel, so Slack links it',
  },
  discord: {
    admins: 'members with Manage Server',
    workspace: 'server',
    channel: (id) => `<#${id}>`,
    channelId: idOf(discordChannel),
    channelHint: 'type # and pick the channel, so Discord links it',
  },
  console: {
    admins: 'admins',
    workspace: 'workspace',
    channel: (id) => `#${id}`,
    channelId: idOf(consoleChannel),
    channelHint: 'write the channel name, e.g. #general',
  },
};

type Text = string | ((v: Vocabulary) => string);

/** Codes that are decisions rather than faults. */
const refusals: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.CommandUnknown,
  ErrorCode.CommandUsage,
  ErrorCode.AdminOnly,
  ErrorCode.CallerForeign,
  ErrorCode.NotFound,
  ErrorCode.InvalidInput,
  ErrorCode.LimitReached,
  ErrorCode.QuotaExhausted,
  ErrorCode.QuestionTooLong,
  ErrorCode.BusyTenantQueue,
  ErrorCode.BusyGlobalQueue,
  ErrorCode.BusyWaitTimeout,
  ErrorCode.BusyRateLimited,
  ErrorCode.FileUnsupported,
  ErrorCode.FileTooLarge,
  ErrorCode.FileUnreadable,
  ErrorCode.FileForeignHost,
  ErrorCode.KnowledgeUnavailable,
  ErrorCode.TenantDisabled,
  ErrorCode.ChannelOff,
  ErrorCode.LlmAborted,
]);

/** What users read for a code when the error carries no text of its own. */
const defaultText: Record<ErrorCode, Text> = {
  command_unknown: 'That is not a command I know. `help` lists them.',
  command_usage: 'Those arguments do not fit that command. `help` lists the commands and their arguments.',
  admin_only: (v) => `Only ${v.admins} can do that.`,
  caller_foreign: (v) => `Only members of this ${v.workspace} can do that.`,
  not_found: 'I could not find that.',
  invalid_input: 'That input is not valid.',
  limit_reached: (v) => `This ${v.workspace} has reached one of its limits.`,
  quota_exhausted: (v) => `This ${v.workspace} has used its tokens for today. The allowance resets at midnight UTC.`,
  question_too_long: 'That question is too long for me.',
  busy_tenant_queue: (v) => `I'm busy with this ${v.workspace}'s other questions. Please try again in a minute.`,
  busy_global_queue: "I'm busy right now. Please try again shortly.",
  busy_wait_timeout: "I'm busy right now. Please try again shortly.",
  busy_rate_limited: (v) => `This ${v.workspace}'s questions for this minute are used up. Please try again in a minute.`,
  llm_unreachable: "I can't reach the language model right now. Please try again in a few minutes.",
  llm_unknown_model: (v) =>
    `The model for this persona isn't installed on the server. One of the ${v.admins} can pick another persona (\`persona use ...\`).`,
  llm_overloaded: 'The language model is overloaded right now. Please try again shortly.',
  llm_stalled: 'The language model took too long to answer. Please try again.',
  llm_timeout: 'The language model took too long to answer. Please try again.',
  llm_aborted: 'The answer was cancelled.',
  llm_failed: 'The language model failed while answering. Please try again.',
  file_unsupported: 'I can only read plain text, Markdown, HTML and PDF files.',
  file_too_large: 'That file is too large.',
  file_unreadable: 'I could not read that file.',
  file_download_failed: 'I could not download that file. Please try again.',
  file_foreign_host: 'That file is not stored on this platform, so I will not fetch it.',
  knowledge_unavailable: 'The knowledge base is not set up on this deployment yet. Its operator can enable it (Qdrant or pgvector).',
  tenant_disabled: (v) => `This bot is disabled for this ${v.workspace}. Please contact the operator of this deployment.`,
  channel_off: (v) => `I am switched off in this channel. One of the ${v.admins} can turn me back on with \`channel mode mention\`.`,
  internal: (v) => `Something went wrong on my side. Please try again; if it keeps happening, tell one of the ${v.admins}.`,
};

export class BotError extends Error {
  readonly code: ErrorCode;
  /** A refusal on purpose (logged as one line), not a fault. */
  readonly expected: boolean;
  private readonly text: Text | undefined;

  constructor(code: ErrorCode, text?: Text, options?: { cause?: unknown; expected?: boolean }) {
    // The message (for logs) reads as the console would show it.
    super(typeof text === 'function' ? text(vocabularies.console) : (text ?? code), options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'BotError';
    this.code = code;
    this.text = text;
    this.expected = options?.expected ?? refusals.has(code);
  }

  /** What the user reads, in the platform's words. */
  userText(vocabulary: Vocabulary): string {
    const t = this.text ?? defaultText[this.code];
    return typeof t === 'function' ? t(vocabulary) : t;
  }
}

/** Whatever was thrown, as a BotError (unknown throws become `internal`). */
export function asBotError(err: unknown): BotError {
  if (err instanceof BotError) return err;
  return new BotError(ErrorCode.Internal, undefined, { cause: err, expected: false });
}

/** The user's text for a code without an error object (a notice chosen by the engine). */
export function textFor(code: ErrorCode, vocabulary: Vocabulary): string {
  const t = defaultText[code];
  return typeof t === 'function' ? t(vocabulary) : t;
}
