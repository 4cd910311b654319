/**
 * VectorStore on pgvector: the default when QDRANT_URL is unset (embedded PGlite ships the
 * `vector` extension) and usable on any Postgres that has it.
 *
 * Why the table is created here and not in drizzle migrations: its column type is
 * `vector(N)` where N is the embedding model's dimension, known only at start-up by embedding
 * a probe string. So init() creates it (idempotently) with that N, and refuses to start when
 * an existing table was built for another dimension, exactly like the Qdrant collection.
 *
 * Why no HNSW/ivfflat index: every search is restricted to one tenant. A global ANN index
 * is searched first and filtered after, so a small tenant among many large ones gets few or
 * no results (pgvector's iterative scans help but need per-transaction settings). Instead the
 * primary key starts with tenant_id and a search computes exact cosine distances over the
 * tenant's own rows, which is exact, isolation-friendly and fast at plan sizes (thousands of
 * chunks per tenant; see test/bench/retrieval.ts for measured figures). Channel scopes are one
 * more condition on the same rows (`channels && array['*', channel]`), so a scoped search
 * computes fewer distances, never more; no index of its own is needed.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import {
  assertVectors,
  DimensionMismatchError,
  storedChannels,
  visibleChannels,
  type ChunkVector,
  type ScoredChunk,
  type SearchOptions,
  type StoredPassage,
  type TenantVectors,
  type VectorStore,
} from './vector-store.js';
import type { TenantScope } from '../ports/tenancy.js';

export interface PgVectorStoreOptions {
  db: Db;
  /** Table name; tests and the bench may use their own. */
  table?: string;
}

const INSERT_BATCH = 200;

/** postgres.js returns an array of rows; PGlite returns `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export function vectorLiteral(v: number[]): string {
  return `[${v.join(',')}]`;
}

/** A text[] value, one bound parameter per element. */
function textArray(values: readonly string[]): SQL {
  return sql`array[${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )}]::text[]`;
}

export class PgVectorStore implements VectorStore {
  readonly kind = 'pgvector';
  private readonly db: Db;
  private readonly table: SQL;
  private readonly tableName: string;
  private dim: number | undefined;

  constructor(opts: PgVectorStoreOptions) {
    this.db = opts.db;
    this.tableName = opts.table ?? 'knowledge_chunks';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.tableName)) throw new Error(`bad table name ${this.tableName}`);
    this.table = sql.raw(this.tableName);
  }

  get dimension(): number | undefined {
    return this.dim;
  }

  async init(dimension: number): Promise<void> {
    if (!Number.isInteger(dimension) || dimension < 1 || dimension > 16_000) throw new Error(`bad vector dimension ${dimension}`);
    await this.db.execute(sql`create extension if not exists vector`);
    const existing = await this.existingDimension();
    if (existing !== undefined && existing !== dimension) {
      throw new DimensionMismatchError(`table ${this.tableName}`, existing, dimension);
    }
    if (existing === undefined) {
      await this.db.execute(sql`create table if not exists ${this.table} (
        tenant_id uuid not null,
        document_id uuid not null,
        chunk_no integer not null,
        title text not null,
        text text not null,
        embedding vector(${sql.raw(String(dimension))}) not null,
        channels text[] not null default '{*}',
        primary key (tenant_id, document_id, chunk_no)
      )`);
    }
    // Tables made before channel scopes: every existing chunk is workspace-wide (instant: a constant default).
    await this.db.execute(sql`alter table ${this.table} add column if not exists channels text[] not null default '{*}'`);
    this.dim = dimension;
  }

  private async existingDimension(): Promise<number | undefined> {
    const rows = rowsOf<{ type: string }>(
      await this.db.execute(sql`select format_type(a.atttypid, a.atttypmod) as type
        from pg_attribute a
        where a.attrelid = to_regclass(${this.tableName}) and a.attname = 'embedding' and not a.attisdropped`),
    );
    const type = rows[0]?.type;
    if (!type) return undefined;
    const m = /^vector\((\d+)\)$/.exec(type);
    if (!m) throw new Error(`table ${this.tableName} exists but its embedding column is ${type}, not vector(N)`);
    return Number(m[1]);
  }

  forTenant(scope: TenantScope): TenantVectors {
    return new PgTenantVectors(this.db, this.table, () => this.dim, scope.tenantId);
  }
}

/** Not exported: reachable only through PgVectorStore.forTenant(scope). */
class PgTenantVectors implements TenantVectors {
  constructor(
    private readonly db: Db,
    private readonly table: SQL,
    private readonly dimension: () => number | undefined,
    private readonly tenantId: string,
  ) {}

  /**
   * The one place conditions are written; every statement below uses it: the tenant always, and
   * for a search the channels it may see (workspace-wide chunks, and in a channel its own).
   */
  private condition(seenFrom?: { channel: string | null }): SQL {
    const tenant = sql`tenant_id = ${this.tenantId}::uuid`;
    if (!seenFrom) return tenant;
    return sql`${tenant} and channels && ${textArray(visibleChannels(seenFrom.channel))}`;
  }

  async upsert(chunks: ChunkVector[]): Promise<void> {
    assertVectors(this.dimension(), chunks.map((c) => c.vector));
    for (let i = 0; i < chunks.length; i += INSERT_BATCH) {
      const rows = chunks.slice(i, i + INSERT_BATCH).map(
        (c) =>
          sql`(${this.tenantId}::uuid, ${c.documentId}::uuid, ${c.chunkNo}, ${c.title}, ${c.text}, ${vectorLiteral(c.vector)}::vector, ${textArray(storedChannels(c.channels))})`,
      );
      await this.db.execute(sql`insert into ${this.table} (tenant_id, document_id, chunk_no, title, text, embedding, channels)
        values ${sql.join(rows, sql`, `)}
        on conflict (tenant_id, document_id, chunk_no)
        do update set title = excluded.title, text = excluded.text, embedding = excluded.embedding, channels = excluded.channels`);
    }
  }

  async search(vector: number[], options: SearchOptions): Promise<ScoredChunk[]> {
    assertVectors(this.dimension(), [vector]);
    if (options.limit <= 0 || vector.every((x) => x === 0)) return [];
    const q = vectorLiteral(vector);
    const rows = rowsOf<{ document_id: string; chunk_no: number; title: string; text: string; score: number | string }>(
      await this.db.execute(sql`select document_id, chunk_no, title, text, 1 - (embedding <=> ${q}::vector) as score
        from ${this.table}
        where ${this.condition({ channel: options.channel })}
        order by embedding <=> ${q}::vector
        limit ${Math.floor(options.limit)}`),
    );
    // Taking the top `limit` and then dropping low scores equals Qdrant's score_threshold:
    // the order is by score, so nothing above the threshold is lost.
    return rows
      .map((r) => ({ documentId: r.document_id, chunkNo: Number(r.chunk_no), title: r.title, text: r.text, score: Number(r.score) }))
      .filter((r) => Number.isFinite(r.score) && r.score >= options.minScore);
  }

  async deleteDocument(documentId: string): Promise<void> {
    await noTableMeansNoRows(
      this.db.execute(sql`delete from ${this.table} where ${this.condition()} and document_id = ${documentId}::uuid`),
    );
  }

  async setChannels(documentId: string, channels: readonly string[]): Promise<void> {
    await noTableMeansNoRows(
      this.db.execute(sql`update ${this.table} set channels = ${textArray(storedChannels(channels))}
        where ${this.condition()} and document_id = ${documentId}::uuid`),
    );
  }

  async passages(documentId: string): Promise<StoredPassage[]> {
    const rows = await noTableMeansNoRows(
      this.db.execute(sql`select chunk_no, text from ${this.table}
        where ${this.condition()} and document_id = ${documentId}::uuid order by chunk_no`),
    );
    return rowsOf<{ chunk_no: number; text: string }>(rows).map((r) => ({ chunkNo: Number(r.chunk_no), text: r.text }));
  }

  async deleteAll(): Promise<void> {
    await noTableMeansNoRows(this.db.execute(sql`delete from ${this.table} where ${this.condition()}`));
  }

  async count(): Promise<number> {
    const rows = rowsOf<{ n: number | string }>(
      await this.db.execute(sql`select count(*)::int as n from ${this.table} where ${this.condition()}`),
    );
    return Number(rows[0]?.n ?? 0);
  }
}

/**
 * The table is created once the embedding dimension is known; before that (backend never
 * reached) there are no vectors to delete, change or read, which is success, not an error.
 */
async function noTableMeansNoRows(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p;
  } catch (err) {
    const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    if (code !== '42P01') throw err;
    return [];
  }
}
