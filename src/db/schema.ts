/**
 * The whole relational schema. Every tenant-owned table carries `tenant_id` and an index that
 * starts with it, so every access path is tenant-first. Vectors live in the vector store.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    platform: text('platform').notNull(), // 'slack' | 'discord' | 'console'
    externalId: text('external_id').notNull(), // Slack team/enterprise id, Discord guild id
    name: text('name').notNull().default(''),
    status: text('status').notNull().default('active'), // 'active' | 'uninstalled' | 'disabled'
    plan: text('plan').notNull().default('free'),
    /** Operator-set overrides of the plan's limits; never writable by tenant admins. */
    limits: jsonb('limits').$type<Record<string, number>>().notNull().default({}),
    defaultPersona: text('default_persona'),
    /** Suggested prompts for a new assistant thread (admins set them; null = the built-in ones). */
    suggestedPrompts: jsonb('suggested_prompts').$type<string[]>(),
    /**
     * Days of conversation kept, as a tenant admin chose (`retention <days>`); null keeps the
     * plan's longest. Never above the plan's `retentionDays`: the shorter of the two applies.
     */
    retentionDays: integer('retention_days'),
    installedBy: text('installed_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('tenants_platform_external_uq').on(t.platform, t.externalId)],
);

export const installations = pgTable(
  'installations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    /** Slack: enterprise id for org-wide installs, else team id. */
    installationKey: text('installation_key').notNull(),
    enterpriseId: text('enterprise_id'),
    teamId: text('team_id'),
    isEnterpriseInstall: boolean('is_enterprise_install').notNull().default(false),
    installerUserId: text('installer_user_id'),
    botUserId: text('bot_user_id'),
    /** Key id of ENCRYPTION_KEY that sealed `ciphertext`, so keys can rotate. */
    keyId: text('key_id').notNull(),
    /** AES-256-GCM sealed JSON of the platform's installation (tokens included). */
    ciphertext: text('ciphertext').notNull(),
    botTokenExpiresAt: timestamp('bot_token_expires_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('installations_key_uq').on(t.installationKey),
    index('installations_tenant_idx').on(t.tenantId),
  ],
);

/**
 * Slack user tokens of users other than the last installer (a user-scope install by another
 * member). Sealed like installations; one row per (installation, user).
 */
export const installationUsers = pgTable(
  'installation_users',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    installationKey: text('installation_key').notNull(),
    userId: text('user_id').notNull(),
    keyId: text('key_id').notNull(),
    ciphertext: text('ciphertext').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.installationKey, t.userId] }), index('installation_users_tenant_idx').on(t.tenantId)],
);

/**
 * OAuth `state` values handed out by an install page and not used yet: a callback consumes its
 * state (delete ... returning), so a state works once, on any instance. Not tenant data: the
 * tenant does not exist before the install completes.
 */
export const oauthStates = pgTable(
  'oauth_states',
  {
    state: text('state').primaryKey(),
    platform: text('platform').notNull(),
    /** What the install page decided (Slack's InstallURLOptions); returned when the state is used. */
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('oauth_states_expiry_idx').on(t.expiresAt)],
);

export const personas = pgTable(
  'personas',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Null for built-in personas shared by every tenant (read-only to tenants). */
    tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    systemPrompt: text('system_prompt').notNull(),
    model: text('model'),
    temperature: real('temperature'),
    maxTokens: integer('max_tokens'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('personas_tenant_name_uq').on(t.tenantId, t.name).where(sql`${t.tenantId} is not null`),
    uniqueIndex('personas_builtin_name_uq').on(t.name).where(sql`${t.tenantId} is null`),
  ],
);

export const channelSettings = pgTable(
  'channel_settings',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    channelId: text('channel_id').notNull(),
    mode: text('mode').notNull().default('mention'), // 'mention' | 'all' | 'off'
    persona: text('persona'),
    memoryMessages: integer('memory_messages'),
    retrieval: boolean('retrieval').notNull().default(true),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.channelId] })],
);

export const messages = pgTable(
  'messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    channelId: text('channel_id').notNull(),
    /** '' for the channel's own timeline; a thread id otherwise (threads are their own scope). */
    threadId: text('thread_id').notNull().default(''),
    role: text('role').notNull(), // 'user' | 'assistant'
    userId: text('user_id'),
    content: text('content').notNull(),
    tokens: integer('tokens').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [
    index('messages_scope_idx').on(t.tenantId, t.channelId, t.threadId, t.id),
    // The retention sweep's access path: a tenant's messages older than its cutoff, oldest first.
    index('messages_tenant_age_idx').on(t.tenantId, t.createdAt),
  ],
);

export const usage = pgTable(
  'usage',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    requests: integer('requests').notNull().default(0),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull().default(0),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull().default(0),
    rejected: integer('rejected').notNull().default(0),
    /** Tokens held by answers under way (reserved at admission, released when metered). */
    reservedTokens: bigint('reserved_tokens', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.day] })],
);

/** Platform delivery ids already accepted, so a retried delivery never answers twice. */
export const processedEvents = pgTable(
  'processed_events',
  {
    platform: text('platform').notNull(),
    eventId: text('event_id').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.platform, t.eventId] }), index('processed_events_expiry_idx').on(t.expiresAt)],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('audit_log_tenant_idx').on(t.tenantId, t.createdAt)],
);

/** Knowledge documents (metadata); their chunks' vectors live in the VectorStore. */
export const documents = pgTable(
  'documents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    source: text('source').notNull().default('paste'), // 'paste' | file name
    mimeType: text('mime_type').notNull().default('text/plain'),
    bytes: integer('bytes').notNull().default(0),
    chunkCount: integer('chunk_count').notNull().default(0),
    /** The text the bot learned (what an export returns); null for documents added before it was kept. */
    content: text('content'),
    /**
     * Channels the document may be used in (platform channel ids); empty = the whole workspace.
     * The vector store carries the same list on every chunk, where searches filter on it.
     */
    channels: text('channels').array().notNull().default(sql`'{}'::text[]`),
    addedBy: text('added_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('documents_tenant_title_uq').on(t.tenantId, t.title)],
);

/**
 * Answer jobs (src/ports/jobs.ts): one row per accepted delivery, from the ack to the answer.
 * (platform, event_id) is unique, so a retried delivery finds its job. Secrets the reply needs
 * (a Discord interaction token) are sealed like installation tokens.
 */
export const answerJobs = pgTable(
  'answer_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull(),
    /** The tenant as the platform names it (Slack team, Discord guild), for rebuilding the message. */
    tenantExternalId: text('tenant_external_id').notNull(),
    eventId: text('event_id').notNull(),
    channelId: text('channel_id').notNull(),
    /** '' for the channel's own timeline. */
    threadId: text('thread_id').notNull().default(''),
    userId: text('user_id').notNull(),
    state: text('state').notNull().default('received'),
    /** The message text as received (capped at MAX_QUESTION_CHARS + 1: a longer one is refused, never kept whole). */
    text: text('text').notNull().default(''),
    delivery: jsonb('delivery').$type<Record<string, unknown>>().notNull(),
    secretsKeyId: text('secrets_key_id'),
    secrets: text('secrets'),
    reply: jsonb('reply').$type<unknown[]>().notNull().default([]),
    /** Messages arriving in the conversation while it is answered may be answered with it. */
    mergeable: boolean('mergeable').notNull().default(false),
    questionId: bigint('question_id', { mode: 'number' }),
    attempts: integer('attempts').notNull().default(0),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    progressTokens: integer('progress_tokens').notNull().default(0),
    /** Someone pressed stop: the instance running the answer aborts it (it looks every half second). */
    stopRequestedAt: timestamp('stop_requested_at', { withTimezone: true }),
    stopRequestedBy: text('stop_requested_by'),
    outcomeCode: text('outcome_code'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('answer_jobs_delivery_uq').on(t.platform, t.eventId),
    index('answer_jobs_lease_idx').on(t.leaseExpiresAt).where(sql`${t.state} in ('received', 'waiting', 'answering')`),
    index('answer_jobs_conversation_idx').on(t.tenantId, t.channelId, t.threadId, t.createdAt),
    index('answer_jobs_finished_idx').on(t.finishedAt),
  ],
);

/**
 * Answers the bot gave, with what went into them (for feedback and its report). The id is the
 * answer job's id, which the answer's buttons carry. Rows follow the messages they belong to.
 */
export const answers = pgTable(
  'answers',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    channelId: text('channel_id').notNull(),
    threadId: text('thread_id').notNull().default(''),
    askerId: text('asker_id').notNull(),
    questionMessageId: bigint('question_message_id', { mode: 'number' }),
    /** The answer in memory: when it goes (retention, erasure, `memory clear`), its record and votes go with it. */
    answerMessageId: bigint('answer_message_id', { mode: 'number' }).references(() => messages.id, { onDelete: 'cascade' }),
    persona: text('persona').notNull(),
    /** Titles of the documents the answer drew on. */
    sources: jsonb('sources').$type<string[]>().notNull().default([]),
    stopped: boolean('stopped').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [index('answers_tenant_created_idx').on(t.tenantId, t.createdAt)],
);

/** One vote per user per answer (changeable). */
export const answerFeedback = pgTable(
  'answer_feedback',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    answerId: uuid('answer_id')
      .notNull()
      .references(() => answers.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    value: text('value').notNull(), // 'positive' | 'negative'
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.answerId, t.userId] }), index('answer_feedback_tenant_idx').on(t.tenantId, t.updatedAt)],
);

