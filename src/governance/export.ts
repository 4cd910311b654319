/**
 * A tenant's data as NDJSON, streamed: a header line (format, schema version, tenant, time), the
 * tenant's own row, then every row of every tenant table (one JSON object per line, `type` first),
 * then an `end` line with the count of each type, so a reader can tell a whole export from a cut
 * one. Rows are read a page at a time by a key (never offset, never one transaction that would
 * hold the embedded database's one session), and each page is written before the next is read,
 * waiting when the output is slow, so memory stays flat whatever the tenant's size. Tokens and
 * sealed secrets are never read; vectors neither (a document is exported with its text).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { and, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { tenants } from '../db/schema.js';
import type { StoredPassage } from '../retrieval/vector-store.js';
import type { Tenant, TenantScope } from '../ports/tenancy.js';
import { countTenantRows, keyOf, tenantTables, type TenantTable } from './tenant-tables.js';

export const EXPORT_FORMAT = 'tenantbot-export';
/** Raised whenever a record's shape changes (a column renamed or removed, a type added). */
export const EXPORT_SCHEMA_VERSION = 1;

export interface ExportProgress {
  /** The record type being written. */
  type: string;
  /** Rows written so far, over all tables. */
  done: number;
  /** Rows the tenant held when the export began. */
  total: number;
}

export interface ExportDeps {
  db: Db;
  /** Reads back the passages of documents added before their text was kept; without it such documents carry none. */
  passages?: (scope: TenantScope, documentId: string) => Promise<StoredPassage[]>;
  now?: () => Date;
}

export interface ExportSummary {
  /** Records written per type (the header and end lines not counted). */
  rows: Record<string, number>;
  total: number;
}

const DEFAULT_PAGE_ROWS = 2000;
/** Messages are many and small: larger pages, fewer round trips. */
const PAGE_ROWS: Record<string, number> = { messages: 5000 };

/** Casts for keyset values: serial types are not types a value can be cast to. */
const castOf = (column: PgColumn) => ({ bigserial: 'bigint', serial: 'integer' })[column.getSQLType()] ?? column.getSQLType();

/** One tenant's rows of a table, a page at a time, in key order. */
async function* pagesOf(db: Db, t: TenantTable, tenantId: string): AsyncGenerator<Record<string, unknown>[]> {
  const secret = new Set(t.secret ?? []);
  const columns = Object.fromEntries(Object.entries(getTableColumns(t.table)).filter(([k]) => !secret.has(k)));
  const keys = t.key.map((c) => keyOf(t.table, c));
  const size = t.pageRows ?? PAGE_ROWS[t.name] ?? DEFAULT_PAGE_ROWS;
  let after: SQL | undefined;
  for (;;) {
    const rows = (await db
      .select(columns)
      .from(t.table)
      .where(and(eq(t.table.tenantId, tenantId), after))
      .orderBy(...t.key)
      .limit(size)) as Record<string, unknown>[];
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < size) return;
    const last = rows.at(-1)!;
    const values = t.key.map((c, i) => sql`${last[keys[i]!]}::${sql.raw(castOf(c))}`);
    after = sql`(${sql.join([...t.key], sql`, `)}) > (${sql.join(values, sql`, `)})`;
  }
}

async function write(out: Writable, text: string): Promise<void> {
  // A slow or full destination: wait rather than buffer (rejects if the stream fails meanwhile).
  if (!out.write(text)) await once(out, 'drain');
}

const line = (type: string, row: Record<string, unknown>) => `${JSON.stringify({ type, ...row })}\n`;

/** Writes the tenant's export to `out` (not ended: the caller owns it) and says what it wrote. */
export async function exportTenant(
  deps: ExportDeps,
  tenant: Tenant,
  out: Writable,
  onProgress?: (p: ExportProgress) => void,
): Promise<ExportSummary> {
  const { db } = deps;
  const counts = await countTenantRows(db, tenant.tenantId);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const header = {
    format: EXPORT_FORMAT,
    schemaVersion: EXPORT_SCHEMA_VERSION,
    tenant: { id: tenant.tenantId, platform: tenant.platform, externalId: tenant.externalId, name: tenant.name },
    exportedAt: (deps.now?.() ?? new Date()).toISOString(),
    types: ['tenant', ...tenantTables.map((t) => t.type)],
  };
  await write(out, line('header', header));
  const [own] = await db.select().from(tenants).where(eq(tenants.id, tenant.tenantId));
  if (!own) throw new Error(`tenant ${tenant.tenantId} is gone`);
  await write(out, line('tenant', own));
  const rows: Record<string, number> = { tenant: 1 };
  let done = 0;
  for (const t of tenantTables) {
    let written = 0;
    onProgress?.({ type: t.type, done, total });
    for await (const page of pagesOf(db, t, tenant.tenantId)) {
      const lines: string[] = [];
      for (const row of page) lines.push(line(t.type, t.type === 'document' ? await withText(deps, tenant, row) : row));
      await write(out, lines.join(''));
      written += page.length;
      done += page.length;
      onProgress?.({ type: t.type, done, total: Math.max(total, done) });
    }
    rows[t.type] = written;
  }
  const written = Object.values(rows).reduce((a, b) => a + b, 0);
  await write(out, line('end', { rows, total: written }));
  return { rows, total: written };
}

/** A document added before its text was kept is exported with its passages from the vector store. */
async function withText(deps: ExportDeps, scope: TenantScope, row: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (row.content !== null || !deps.passages) return row;
  const passages = await deps.passages(scope, String(row.id));
  return { ...row, passages: passages.map((p) => p.text) };
}
