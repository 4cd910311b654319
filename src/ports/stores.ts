/**
 * The stores the core works with, as interfaces: the engine depends on these, and src/db-backed
 * classes (src/tenancy, src/memory, ...) implement them. Every method takes a TenantScope.
 */
import type { Platform, Tenant, TenantScope } from './tenancy.js';

export interface TenantDirectory {
  /** The tenant for an inbound event, or null if it was never installed. */
  resolve(platform: Platform, externalId: string): Promise<Tenant | null>;
  /** Console workspaces exist as soon as someone talks in them. */
  ensure(platform: Platform, externalId: string, name?: string): Promise<Tenant>;
  setDefaultPersona(scope: TenantScope, persona: string | null): Promise<void>;
  /** The assistant view's suggested prompts; null = the built-in ones. */
  setSuggestedPrompts(scope: TenantScope, prompts: readonly string[] | null): Promise<void>;
  /** A tenant admin's retention in days (null: the plan's longest); the command checks it against the plan. */
  setRetention(scope: TenantScope, days: number | null): Promise<Tenant | null>;
}

export type ChannelMode = 'mention' | 'all' | 'off';
export const channelModes: readonly ChannelMode[] = ['mention', 'all', 'off'];

export interface ChannelSettings {
  mode: ChannelMode;
  persona: string | null;
  memoryMessages: number | null;
  retrieval: boolean;
}

/** The one set of channel limits: the command grammar, the Discord options and the store use it. */
export const channelLimits = {
  /** Earlier messages remembered in a channel (`channel memory <messages>`). */
  memoryMessages: { min: 0, max: 100 },
} as const;

/** Suggested prompts for the assistant view (Slack shows at most 4). */
export const promptLimits = { count: 4, maxLength: 150 } as const;

/** What a new assistant thread suggests until an admin sets the workspace's own prompts. */
export const defaultSuggestedPrompts: readonly string[] = [
  'What can you help me with?',
  'Which documents do you know about?',
  'Help me write a short, friendly reply to a customer',
];

export interface ChannelSettingsStore {
  get(scope: TenantScope, channelId: string): Promise<ChannelSettings>;
  set(scope: TenantScope, channelId: string, patch: Partial<ChannelSettings>): Promise<ChannelSettings>;
}

export interface ConversationKey {
  channelId: string;
  /** null for the channel's own timeline. */
  threadId: string | null;
}

export interface StoredMessage {
  id: number;
  role: 'user' | 'assistant';
  userId: string | null;
  content: string;
  tokens: number;
}

export interface NewMessage {
  role: 'user' | 'assistant';
  userId: string | null;
  content: string;
  tokens?: number;
}

export interface ConversationStore {
  /** Stores one message; returns its id (ids grow with time). */
  append(scope: TenantScope, key: ConversationKey, msg: NewMessage): Promise<number>;
  appendMany(scope: TenantScope, key: ConversationKey, msgs: NewMessage[]): Promise<void>;
  /** The newest messages (before `beforeId`), oldest first, within a count and a token budget. */
  window(scope: TenantScope, key: ConversationKey, opts: { maxMessages: number; tokenBudget: number; beforeId?: number }): Promise<StoredMessage[]>;
  hasAny(scope: TenantScope, key: ConversationKey): Promise<boolean>;
  /** True once the bot has answered in this thread (follow-ups there need no mention). */
  botAnswered(scope: TenantScope, key: ConversationKey): Promise<boolean>;
  /** Forgets a channel: its timeline and every thread in it. Returns rows deleted. */
  clearChannel(scope: TenantScope, channelId: string): Promise<number>;
}

export interface Persona {
  name: string;
  systemPrompt: string;
  model: string | null;
  temperature: number | null;
  maxTokens: number | null;
  builtin: boolean;
}

export interface PersonaInput {
  name: string;
  systemPrompt: string;
  model?: string | null;
  temperature?: number | null;
  maxTokens?: number | null;
}

/**
 * The one set of persona limits: the command grammar, the Discord options and the persona store
 * all read them here, so a name or a prompt accepted on one platform is accepted on every one.
 */
export const personaLimits = {
  name: {
    pattern: /^[a-z0-9][a-z0-9_-]{0,31}$/,
    maxLength: 32,
    rule: '1–32 characters: lowercase letters, digits, "-" or "_"',
  },
  systemPrompt: { maxLength: 4000 },
  temperature: { min: 0, max: 2 },
  maxTokens: { min: 16, max: 8192 },
} as const;

export interface PersonaCatalog {
  /** Built-ins first, then the tenant's own, by name. */
  list(scope: TenantScope): Promise<Persona[]>;
  get(scope: TenantScope, name: string): Promise<Persona | null>;
  create(scope: TenantScope, input: PersonaInput, createdBy: string): Promise<Persona>;
  /** False if the tenant has no such persona. */
  delete(scope: TenantScope, name: string): Promise<boolean>;
}

export interface UsageTotals {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  rejected: number;
  tokens: number;
}

export interface UsageDelta {
  requests?: number;
  promptTokens?: number;
  completionTokens?: number;
  rejected?: number;
  /** A reservation this delta settles: its tokens stop counting against the quota. */
  release?: QuotaReservation;
}

/** Tokens an answer holds against its tenant's daily quota while it runs. */
export interface QuotaReservation {
  /** The UTC day it was taken on (released there, even after midnight). */
  readonly day: string;
  readonly tokens: number;
}

export interface UsageLedger {
  /** Meters a delta (and releases the reservation it settles) in one statement. */
  record(scope: TenantScope, delta: UsageDelta): Promise<void>;
  /**
   * Reserves `tokens` against a daily quota of `limit`, in one statement that every instance
   * shares: granted while the tokens used and reserved today are below the limit, so concurrent
   * questions overshoot it by at most one answer. 'spent' when the tokens used alone reach the
   * limit; 'held' when answers under way hold the rest (it may be granted once they end).
   */
  reserve(scope: TenantScope, tokens: number, limit: number): Promise<QuotaReservation | 'spent' | 'held'>;
  today(scope: TenantScope): Promise<UsageTotals>;
  thisMonth(scope: TenantScope): Promise<UsageTotals>;
}

export interface AuditEntry {
  actor: string;
  action: string;
  detail: Record<string, unknown>;
  createdAt: Date;
}

export interface AuditTrail {
  record(scope: TenantScope, actor: string, action: string, detail?: Record<string, unknown>): Promise<void>;
  /** Newest first; `offset` skips that many of the newest (paging). */
  recent(scope: TenantScope, limit?: number, action?: string, offset?: number): Promise<AuditEntry[]>;
  /** How many entries the tenant has (of one action, when given). */
  count(scope: TenantScope, action?: string): Promise<number>;
}

/** Platform delivery ids already accepted, so a retried delivery never answers twice. */
export interface DeliveryDedupe {
  /** True the first time (platform, eventId) is seen; false for a repeat. */
  firstDelivery(platform: string, eventId: string): Promise<boolean>;
}

/** An answer the bot gave (its id is the answer job's, which its buttons carry). */
export interface AnswerRecord {
  id: string;
  channelId: string;
  threadId: string | null;
  askerId: string;
  questionMessageId: number | null;
  answerMessageId: number | null;
  persona: string;
  /** Titles of the documents it drew on. */
  sources: string[];
  stopped: boolean;
}

export type FeedbackValue = 'positive' | 'negative';

export interface FeedbackCounts {
  positive: number;
  negative: number;
}

export interface NegativeFeedback {
  answerId: string;
  at: Date;
  by: string;
  channelId: string;
  persona: string;
  sources: string[];
  question: string | null;
  answer: string | null;
}

/** Answers and the votes on them, per tenant. */
export interface AnswerBook {
  record(scope: TenantScope, answer: AnswerRecord): Promise<void>;
  get(scope: TenantScope, answerId: string): Promise<AnswerRecord | null>;
  /** One vote per user per answer; a second vote replaces the first. False when the answer is unknown. */
  vote(scope: TenantScope, answerId: string, userId: string, value: FeedbackValue): Promise<boolean>;
  counts(scope: TenantScope, since: Date): Promise<FeedbackCounts>;
  latestNegative(scope: TenantScope, limit: number): Promise<NegativeFeedback[]>;
  /** Votes today and this month (UTC), and the latest "not helpful" answers with their questions. */
  report(scope: TenantScope, options?: { now?: Date; latest?: number }): Promise<FeedbackReport>;
}

export interface FeedbackReport {
  today: FeedbackCounts;
  month: FeedbackCounts;
  latestNegative: NegativeFeedback[];
}
