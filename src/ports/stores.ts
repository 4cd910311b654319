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
}

export interface UsageLedger {
  record(scope: TenantScope, delta: UsageDelta): Promise<void>;
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
