/**
 * VectorStore on Qdrant: one collection for every tenant (Qdrant's recommended multitenancy),
 * a keyword payload index on `tenant_id` created with `is_tenant: true` so segments are laid
 * out per tenant, and per-tenant HNSW graphs (`payload_m: 16, m: 0`: no global graph, one graph
 * per tenant value) so a filtered search stays exact-ish and fast for small tenants too. Channel
 * scopes are a second keyword index (`channels`, not a tenant index) matched in the same filter.
 */
import { createHash } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import {
  assertVectors,
  DimensionMismatchError,
  EVERY_CHANNEL,
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

export interface QdrantStoreOptions {
  url: string;
  apiKey?: string;
  collection?: string;
  /** Request timeout in ms. */
  timeoutMs?: number;
}

const UPSERT_BATCH = 256;

/** Conditions of Qdrant's filter language (only what this store sends). */
type MatchCondition = { key: string; match: { value: string } } | { key: string; match: { any: string[] } };
interface TenantFilter {
  must: MatchCondition[];
}

const SCROLL_PAGE = 256;

/** Qdrant point ids must be uuids or integers; derive a stable uuid from the chunk's identity. */
export function pointId(tenantId: string, documentId: string, chunkNo: number): string {
  const h = createHash('sha1').update(`${tenantId}/${documentId}/${chunkNo}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class QdrantStore implements VectorStore {
  readonly kind = 'qdrant';
  readonly collection: string;
  private readonly client: QdrantClient;
  private dim: number | undefined;

  constructor(opts: QdrantStoreOptions) {
    this.collection = opts.collection ?? 'tenant_knowledge';
    this.client = new QdrantClient({
      url: opts.url,
      apiKey: opts.apiKey,
      timeout: opts.timeoutMs ?? 30_000,
      // The version check is a fire-and-forget request that only warns; init() reports real problems.
      checkCompatibility: false,
    });
  }

  get dimension(): number | undefined {
    return this.dim;
  }

  async init(dimension: number): Promise<void> {
    if (!Number.isInteger(dimension) || dimension < 1) throw new Error(`bad vector dimension ${dimension}`);
    const where = `Qdrant collection ${this.collection}`;
    let { exists } = await this.client.collectionExists(this.collection);
    if (!exists) {
      try {
        await this.client.createCollection(this.collection, {
          vectors: { size: dimension, distance: 'Cosine' },
          hnsw_config: { payload_m: 16, m: 0 },
        });
      } catch (err) {
        // Another instance may have created it at the same moment; that is fine if it exists now.
        ({ exists } = await this.client.collectionExists(this.collection));
        if (!exists) throw err;
      }
    }
    const info = await this.client.getCollection(this.collection);
    const existing = vectorSize(info.config.params.vectors);
    if (existing === undefined) throw new Error(`${where} has named vectors; this service expects one unnamed vector`);
    if (existing !== dimension) throw new DimensionMismatchError(where, existing, dimension);
    const tenantIndex = info.payload_schema?.tenant_id;
    if (!tenantIndex) {
      await this.client.createPayloadIndex(this.collection, {
        field_name: 'tenant_id',
        field_schema: { type: 'keyword', is_tenant: true },
        wait: true,
      });
    }
    if (!info.payload_schema?.channels) {
      await this.client.createPayloadIndex(this.collection, { field_name: 'channels', field_schema: 'keyword', wait: true });
    }
    // Points stored before channel scopes (or by an older instance during a rolling upgrade) are
    // workspace-wide; without the value a channel search would not match them.
    await this.client.setPayload(this.collection, {
      payload: { channels: [EVERY_CHANNEL] },
      filter: { must: [{ is_empty: { key: 'channels' } }] },
      wait: true,
    });
    this.dim = dimension;
  }

  forTenant(scope: TenantScope): TenantVectors {
    return new QdrantTenantVectors(this.client, this.collection, () => this.dim, scope.tenantId);
  }
}

function vectorSize(vectors: unknown): number | undefined {
  if (vectors && typeof vectors === 'object' && 'size' in vectors && typeof vectors.size === 'number') return vectors.size;
  return undefined;
}

/** Not exported: reachable only through QdrantStore.forTenant(scope). */
class QdrantTenantVectors implements TenantVectors {
  constructor(
    private readonly client: QdrantClient,
    private readonly collection: string,
    private readonly dimension: () => number | undefined,
    private readonly tenantId: string,
  ) {}

  /**
   * The one place filters are built; every search, count, read, change and delete goes through
   * it: the tenant always, for a search the channels it may see, for one document its id.
   */
  private filter(opts: { seenFrom?: { channel: string | null }; documentId?: string } = {}): TenantFilter {
    const must: MatchCondition[] = [{ key: 'tenant_id', match: { value: this.tenantId } }];
    if (opts.seenFrom) must.push({ key: 'channels', match: { any: visibleChannels(opts.seenFrom.channel) } });
    if (opts.documentId !== undefined) must.push({ key: 'document_id', match: { value: opts.documentId } });
    return { must };
  }

  async upsert(chunks: ChunkVector[]): Promise<void> {
    assertVectors(this.dimension(), chunks.map((c) => c.vector));
    for (let i = 0; i < chunks.length; i += UPSERT_BATCH) {
      await this.client.upsert(this.collection, {
        wait: true,
        points: chunks.slice(i, i + UPSERT_BATCH).map((c) => ({
          id: pointId(this.tenantId, c.documentId, c.chunkNo),
          vector: c.vector,
          payload: {
            tenant_id: this.tenantId,
            document_id: c.documentId,
            chunk_no: c.chunkNo,
            title: c.title,
            text: c.text,
            channels: storedChannels(c.channels),
          },
        })),
      });
    }
  }

  async search(vector: number[], options: SearchOptions): Promise<ScoredChunk[]> {
    assertVectors(this.dimension(), [vector]);
    if (options.limit <= 0 || vector.every((x) => x === 0)) return [];
    const visible = visibleChannels(options.channel);
    const res = await this.client.query(this.collection, {
      query: vector,
      filter: this.filter({ seenFrom: { channel: options.channel } }),
      limit: Math.floor(options.limit),
      score_threshold: options.minScore,
      with_payload: true,
    });
    const out: ScoredChunk[] = [];
    for (const p of res.points) {
      const payload = (p.payload ?? {}) as Record<string, unknown>;
      // Belt and braces: a point of another tenant or channel would mean the filter was lost somewhere.
      if (payload.tenant_id !== this.tenantId) continue;
      if (!Array.isArray(payload.channels) || !payload.channels.some((c) => visible.includes(String(c)))) continue;
      out.push({
        documentId: String(payload.document_id),
        chunkNo: Number(payload.chunk_no),
        title: String(payload.title ?? ''),
        text: String(payload.text ?? ''),
        score: p.score,
      });
    }
    return out;
  }

  async deleteDocument(documentId: string): Promise<void> {
    await this.client.delete(this.collection, { wait: true, filter: this.filter({ documentId }) });
  }

  async setChannels(documentId: string, channels: readonly string[]): Promise<void> {
    await this.client.setPayload(this.collection, { payload: { channels: storedChannels(channels) }, filter: this.filter({ documentId }), wait: true });
  }

  async passages(documentId: string): Promise<StoredPassage[]> {
    const out: StoredPassage[] = [];
    let offset: string | number | null | undefined;
    do {
      const page = await this.client.scroll(this.collection, {
        filter: this.filter({ documentId }),
        limit: SCROLL_PAGE,
        with_payload: ['chunk_no', 'text', 'tenant_id'],
        with_vector: false,
        ...(offset !== undefined && offset !== null ? { offset } : {}),
      });
      for (const p of page.points) {
        const payload = (p.payload ?? {}) as Record<string, unknown>;
        if (payload.tenant_id !== this.tenantId) continue;
        out.push({ chunkNo: Number(payload.chunk_no), text: String(payload.text ?? '') });
      }
      offset = page.next_page_offset as string | number | null | undefined;
    } while (offset !== undefined && offset !== null);
    return out.sort((a, b) => a.chunkNo - b.chunkNo);
  }

  async deleteAll(): Promise<void> {
    await this.client.delete(this.collection, { wait: true, filter: this.filter() });
  }

  async count(): Promise<number> {
    const res = await this.client.count(this.collection, { filter: this.filter(), exact: true });
    return res.count;
  }
}
