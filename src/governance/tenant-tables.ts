/**
 * Every table that holds a tenant's rows, in one list: what an export writes (and which columns
 * it never writes: tokens and sealed secrets), how it pages through one tenant's rows (a key
 * that is unique within the tenant and indexed after tenant_id), and how a user is forgotten in
 * it. Export, erasure, purge counts and the tests that check no tenant table is missing all read
 * this list, so a new tenant-owned table is added here once.
 */
import { and, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { answerFeedback, answerJobs, answers, auditLog, channelSettings, documents, installations, installationUsers, messages, personas, usage } from '../db/schema.js';
import { activeJobStates } from '../ports/jobs.js';
import { FORGOTTEN_USER, type ForgetCount } from './forget-count.js';
import { forgetMessages } from './forget-messages.js';

export interface TenantTable {
  /** The table's name in the database (counts, purge reports). */
  name: string;
  /** The record type of its rows in an export. */
  type: string;
  table: PgTable & { tenantId: PgColumn };
  /** Orders one tenant's rows for paging: unique within the tenant, indexed after tenant_id (no timestamps: they lose microseconds in JS). */
  key: readonly PgColumn[];
  /** Column keys never exported: tokens and sealed secrets. */
  secret?: readonly string[];
  /** Rows a page holds in an export (documents carry their whole text). @defaultValue 2000 */
  pageRows?: number;
  /** Forgets `userId` in this tenant's rows, inside the caller's transaction; absent: the table names no user. */
  forget?: (tx: Db, tenantId: string, userId: string) => Promise<ForgetCount>;
}

/** Replaces a user id in one column (a row that stays, such as "added by"). */
function markColumn(table: PgTable & { tenantId: PgColumn }, column: PgColumn, to: string | null) {
  return async (tx: Db, tenantId: string, userId: string): Promise<ForgetCount> => {
    const rows = await tx
      .update(table)
      .set({ [keyOf(table, column)]: to } as never)
      .where(and(eq(table.tenantId, tenantId), eq(column, userId)))
      .returning({ one: sql`1` });
    return { deleted: 0, marked: rows.length };
  };
}

/** The JS key drizzle uses for a column of a table (rows come back under it). */
export function keyOf(table: PgTable, column: PgColumn): string {
  const found = Object.entries(getTableColumns(table)).find(([, c]) => c === column);
  if (!found) throw new Error(`column ${column.name} is not in the table`);
  return found[0];
}

/** The user's id wherever it stands as a whole word in a string (`U1` in `<@U1>`, not in `U12`). */
function withoutUser(value: unknown, userId: string): unknown {
  if (typeof value === 'string') {
    const escaped = userId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return value.replace(new RegExp(`(?<![A-Za-z0-9_])${escaped}(?![A-Za-z0-9_])`, 'g'), FORGOTTEN_USER);
  }
  if (Array.isArray(value)) return value.map((v) => withoutUser(v, userId));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutUser(v, userId)]));
  return value;
}

/** Audit rows stay (who changed what), with the user's id as actor or in the detail replaced by the marker. */
async function forgetInAudit(tx: Db, tenantId: string, userId: string): Promise<ForgetCount> {
  const mine = eq(auditLog.tenantId, tenantId);
  const acted = await tx.update(auditLog).set({ actor: FORGOTTEN_USER }).where(and(mine, eq(auditLog.actor, userId))).returning({ id: auditLog.id });
  const marked = new Set(acted.map((r) => r.id));
  const named = await tx
    .select({ id: auditLog.id, detail: auditLog.detail })
    .from(auditLog)
    .where(and(mine, sql`${auditLog.detail}::text like ${`%${likeEscaped(userId)}%`}`));
  for (const row of named) {
    const detail = withoutUser(row.detail, userId) as Record<string, unknown>;
    if (JSON.stringify(detail) === JSON.stringify(row.detail)) continue;
    await tx.update(auditLog).set({ detail }).where(and(mine, eq(auditLog.id, row.id)));
    marked.add(row.id);
  }
  return { deleted: 0, marked: marked.size };
}

export const tenantTables: readonly TenantTable[] = [
  {
    name: 'installations',
    type: 'installation',
    table: installations,
    key: [installations.id],
    // The sealed installation holds the workspace's tokens: never exported.
    secret: ['keyId', 'ciphertext'],
    forget: markColumn(installations, installations.installerUserId, null),
  },
  {
    name: 'installation_users',
    type: 'installation_user',
    table: installationUsers,
    key: [installationUsers.installationKey, installationUsers.userId],
    secret: ['keyId', 'ciphertext'],
    // A member's own sealed user token: forgetting them deletes it.
    forget: async (tx, tenantId, userId) => {
      const rows = await tx
        .delete(installationUsers)
        .where(and(eq(installationUsers.tenantId, tenantId), eq(installationUsers.userId, userId)))
        .returning({ one: sql`1` });
      return { deleted: rows.length, marked: 0 };
    },
  },
  { name: 'personas', type: 'persona', table: personas as TenantTable['table'], key: [personas.name], forget: markColumn(personas as TenantTable['table'], personas.createdBy, FORGOTTEN_USER) },
  { name: 'channel_settings', type: 'channel_settings', table: channelSettings, key: [channelSettings.channelId] },
  {
    name: 'documents',
    type: 'document',
    table: documents,
    key: [documents.title],
    // A document carries its whole text (up to the plan's file size): few to a page.
    pageRows: 4,
    forget: markColumn(documents, documents.addedBy, FORGOTTEN_USER),
  },
  { name: 'messages', type: 'message', table: messages, key: [messages.channelId, messages.threadId, messages.id], forget: forgetMessages },
  { name: 'usage', type: 'usage', table: usage, key: [usage.day] },
  {
    name: 'audit_log',
    type: 'audit',
    table: auditLog,
    key: [auditLog.id],
    forget: forgetInAudit,
  },
  {
    name: 'answer_jobs',
    type: 'answer_job',
    table: answerJobs,
    key: [answerJobs.id],
    // A pending Discord reply's sealed interaction token.
    secret: ['secretsKeyId', 'secrets'],
    forget: async (tx, tenantId, userId) => {
      const mine = and(eq(answerJobs.tenantId, tenantId), eq(answerJobs.userId, userId));
      const active = inArray(answerJobs.state, [...activeJobStates]);
      const deleted = await tx.delete(answerJobs).where(and(mine, sql`not ${active}`)).returning({ one: sql`1` });
      const running = await tx.select({ one: sql`1` }).from(answerJobs).where(and(mine, active));
      return {
        deleted: deleted.length,
        marked: 0,
        ...(running.length ? { kept: { rows: running.length, why: 'questions being answered right now: run users forget again once they are answered' } } : {}),
      };
    },
  },
  {
    name: 'answers',
    type: 'answer',
    table: answers,
    key: [answers.id],
    // An answer's record (who asked, persona, sources) goes with its text in memory (a foreign key
    // with on delete cascade); the ones of a forgotten asker go too, their votes with them.
    forget: async (tx, tenantId, userId) => {
      const rows = await tx
        .delete(answers)
        .where(and(eq(answers.tenantId, tenantId), eq(answers.askerId, userId)))
        .returning({ one: sql`1` });
      return { deleted: rows.length, marked: 0 };
    },
  },
  {
    name: 'answer_feedback',
    type: 'feedback',
    table: answerFeedback,
    key: [answerFeedback.answerId, answerFeedback.userId],
    forget: async (tx, tenantId, userId) => {
      const rows = await tx
        .delete(answerFeedback)
        .where(and(eq(answerFeedback.tenantId, tenantId), eq(answerFeedback.userId, userId)))
        .returning({ one: sql`1` });
      return { deleted: rows.length, marked: 0 };
    },
  },
];

/** Tables with a tenant_id column that are deliberately not in the list, and why. */
export const notTenantTables: Readonly<Record<string, string>> = {
  knowledge_chunks: "the vector store's chunks of documents: exported as each document's text, deleted with the document",
};

/** A value inside a LIKE pattern, its wildcards taken literally. */
function likeEscaped(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Rows the tenant holds in each listed table. */
export async function countTenantRows(db: Db, tenantId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tenantTables) {
    const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(t.table).where(eq(t.table.tenantId, tenantId));
    out[t.name] = Number(row?.n ?? 0);
  }
  return out;
}
