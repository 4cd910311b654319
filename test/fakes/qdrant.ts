/**
 * A fake Qdrant REST server on 127.0.0.1 (port 0), speaking the wire format the real
 * `@qdrant/js-client-rest` uses: collections exists/get/create/delete, payload index creation,
 * points upsert/delete (by ids or filter)/count, set payload (by ids or filter), scroll (by id,
 * with next_page_offset), query and search with filters (must/should/must_not,
 * match.value/any/except, is_empty, has_id, nested filters), score_threshold, limit/offset,
 * with_payload (true, false or a list of fields); cosine scoring on vectors normalised at
 * upsert, as Qdrant does.
 * Filters are applied faithfully (nothing is assumed); every request is recorded so tests can
 * check what the client really sent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  body: any;
}

interface Point {
  id: string | number;
  vector: number[];
  payload: Record<string, unknown>;
}

interface Collection {
  size: number;
  distance: string;
  hnsw: Record<string, unknown>;
  payloadSchema: Record<string, { data_type: string; params?: Record<string, unknown> }>;
  points: Map<string, Point>;
}

export interface FakeQdrant {
  url: string;
  requests: RecordedRequest[];
  collections: Map<string, Collection>;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function normalise(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return n === 0 ? v.slice() : v.map((x) => x / n);
}

function valuesAt(payload: Record<string, unknown>, key: string): unknown[] {
  let cur: unknown = payload;
  for (const part of key.split('.')) {
    if (cur && typeof cur === 'object' && !Array.isArray(cur)) cur = (cur as Record<string, unknown>)[part];
    else return [];
  }
  if (cur === undefined || cur === null) return [];
  return Array.isArray(cur) ? cur : [cur];
}

function matchCondition(point: Point, cond: any): boolean {
  if (cond && typeof cond === 'object' && ('must' in cond || 'should' in cond || 'must_not' in cond)) {
    return matchFilter(point, cond);
  }
  if (cond && Array.isArray(cond.has_id)) return cond.has_id.map(String).includes(String(point.id));
  // Qdrant: true when the field is missing, null or an empty array.
  if (cond && cond.is_empty && typeof cond.is_empty.key === 'string') return valuesAt(point.payload, cond.is_empty.key).length === 0;
  if (cond && typeof cond.key === 'string' && cond.match && typeof cond.match === 'object') {
    const vals = valuesAt(point.payload, cond.key);
    const m = cond.match;
    if ('value' in m) return vals.some((v) => v === m.value);
    if (Array.isArray(m.any)) return vals.some((v) => m.any.includes(v));
    if (Array.isArray(m.except)) return vals.length > 0 && vals.every((v) => !m.except.includes(v));
  }
  throw new HttpError(400, `Format error in JSON body: unsupported filter condition ${JSON.stringify(cond)}`);
}

function matchFilter(point: Point, filter: any): boolean {
  if (filter === undefined || filter === null) return true;
  const list = (x: unknown): any[] => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);
  const must = list(filter.must);
  const should = list(filter.should);
  const mustNot = list(filter.must_not);
  if (!must.every((c) => matchCondition(point, c))) return false;
  if (should.length > 0 && !should.some((c) => matchCondition(point, c))) return false;
  if (mustNot.some((c) => matchCondition(point, c))) return false;
  return true;
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** `with_payload`: true (all), false/absent (none), or the fields to include. */
function payloadFor(p: Point, withPayload: unknown): Record<string, unknown> | undefined {
  if (withPayload === true) return p.payload;
  if (Array.isArray(withPayload)) return Object.fromEntries(withPayload.filter((k) => k in p.payload).map((k) => [k, p.payload[k]]));
  return undefined;
}

function checkId(id: unknown): string {
  const uuid = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
  if ((typeof id === 'number' && Number.isInteger(id) && id >= 0) || (typeof id === 'string' && uuid.test(id))) return String(id);
  throw new HttpError(400, `Format error in JSON body: value ${JSON.stringify(id)} is not a valid point ID`);
}

export async function startFakeQdrant(): Promise<FakeQdrant> {
  const collections = new Map<string, Collection>();
  const requests: RecordedRequest[] = [];

  const getCollection = (name: string): Collection => {
    const c = collections.get(name);
    if (!c) throw new HttpError(404, `Not found: Collection \`${name}\` doesn't exist!`);
    return c;
  };

  const opResult = () => ({ operation_id: requests.length, status: 'completed' });

  function scored(c: Collection, query: number[], body: any) {
    if (!Array.isArray(query) || query.length !== c.size) {
      throw new HttpError(400, `Wrong input: Vector dimension error: expected dim: ${c.size}, got ${Array.isArray(query) ? query.length : 'none'}`);
    }
    const q = normalise(query);
    const limit = body.limit ?? 10;
    const offset = body.offset ?? 0;
    const withPayload: unknown = body.with_payload ?? false;
    const hits = [...c.points.values()]
      .filter((p) => matchFilter(p, body.filter))
      .map((p) => ({ p, score: dot(q, p.vector) }))
      .filter((h) => body.score_threshold === undefined || body.score_threshold === null || h.score >= body.score_threshold)
      .sort((a, b) => b.score - a.score)
      .slice(offset, offset + limit);
    return hits.map(({ p, score }) => ({
      id: p.id,
      version: 0,
      score,
      ...(withPayload ? { payload: payloadFor(p, withPayload) } : {}),
      ...(body.with_vector ? { vector: p.vector } : {}),
    }));
  }

  /** Points in id order from `offset` (an id, inclusive), as Qdrant scrolls. */
  function scroll(c: Collection, body: any) {
    const limit = body?.limit ?? 10;
    const ids = [...c.points.keys()].sort();
    const start = body?.offset === undefined || body?.offset === null ? 0 : ids.findIndex((id) => id >= String(body.offset));
    const matching = (start < 0 ? [] : ids.slice(start)).map((id) => c.points.get(id)!).filter((p) => matchFilter(p, body?.filter));
    const page = matching.slice(0, limit);
    const next = matching[limit];
    return {
      points: page.map((p) => ({
        id: p.id,
        ...(body?.with_payload === false ? {} : { payload: payloadFor(p, body?.with_payload ?? true) }),
        ...(body?.with_vector ? { vector: p.vector } : {}),
      })),
      next_page_offset: next ? next.id : null,
    };
  }

  function route(method: string, path: string, body: any): unknown {
    if (method === 'GET' && path === '/') return { title: 'qdrant - vector search engine', version: '1.18.0' };
    const m = /^\/collections\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) throw new HttpError(404, `Not found: ${path}`);
    const name = decodeURIComponent(m[1]!);
    const rest = m[2] ?? '';
    if (method === 'GET' && rest === '/exists') return { exists: collections.has(name) };
    if (method === 'GET' && rest === '') {
      const c = getCollection(name);
      const schema: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(c.payloadSchema)) schema[k] = { ...v, points: c.points.size };
      return {
        status: 'green',
        optimizer_status: 'ok',
        indexed_vectors_count: 0,
        points_count: c.points.size,
        segments_count: 1,
        config: {
          params: { vectors: { size: c.size, distance: c.distance }, shard_number: 1, replication_factor: 1, on_disk_payload: true },
          hnsw_config: c.hnsw,
          optimizer_config: {},
          wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
        },
        payload_schema: schema,
      };
    }
    if (method === 'PUT' && rest === '') {
      if (collections.has(name)) throw new HttpError(409, `Wrong input: Collection \`${name}\` already exists!`);
      const v = body?.vectors;
      if (!v || typeof v.size !== 'number' || !['Cosine', 'Dot', 'Euclid', 'Manhattan'].includes(v.distance)) {
        throw new HttpError(400, 'Format error in JSON body: vectors must be { size, distance }');
      }
      collections.set(name, {
        size: v.size,
        distance: v.distance,
        hnsw: { m: 16, ef_construct: 100, full_scan_threshold: 10000, ...(body.hnsw_config ?? {}) },
        payloadSchema: {},
        points: new Map(),
      });
      return true;
    }
    if (method === 'DELETE' && rest === '') return collections.delete(name);
    const c = getCollection(name);
    if (method === 'PUT' && rest === '/index') {
      const schema = body?.field_schema;
      if (typeof body?.field_name !== 'string' || !schema) throw new HttpError(400, 'Format error in JSON body: field_name and field_schema');
      c.payloadSchema[body.field_name] = typeof schema === 'string' ? { data_type: schema } : { data_type: schema.type, params: schema };
      return opResult();
    }
    if (method === 'PUT' && rest === '/points') {
      const points: any[] = body?.points ?? [];
      if (!Array.isArray(points)) throw new HttpError(400, 'Format error in JSON body: points');
      for (const p of points) {
        const id = checkId(p.id);
        if (!Array.isArray(p.vector) || p.vector.length !== c.size) {
          throw new HttpError(400, `Wrong input: Vector dimension error: expected dim: ${c.size}, got ${p.vector?.length}`);
        }
        const vector = c.distance === 'Cosine' ? normalise(p.vector) : p.vector.slice();
        c.points.set(id, { id: p.id, vector, payload: { ...(p.payload ?? {}) } });
      }
      return opResult();
    }
    if (method === 'POST' && rest === '/points/delete') {
      if (Array.isArray(body?.points)) for (const id of body.points) c.points.delete(checkId(id));
      else if (body?.filter) {
        for (const [id, p] of c.points) if (matchFilter(p, body.filter)) c.points.delete(id);
      } else throw new HttpError(400, 'Format error in JSON body: points or filter');
      return opResult();
    }
    if (method === 'POST' && rest === '/points/payload') {
      if (!body?.payload || typeof body.payload !== 'object') throw new HttpError(400, 'Format error in JSON body: payload');
      const targets = Array.isArray(body.points)
        ? body.points.map((id: unknown) => c.points.get(checkId(id))).filter(Boolean)
        : body.filter
          ? [...c.points.values()].filter((p) => matchFilter(p, body.filter))
          : undefined;
      if (!targets) throw new HttpError(400, 'Format error in JSON body: points or filter');
      // Set payload merges the given keys into each point's payload.
      for (const p of targets as Point[]) Object.assign(p.payload, structuredClone(body.payload));
      return opResult();
    }
    if (method === 'POST' && rest === '/points/scroll') return scroll(c, body);
    if (method === 'POST' && rest === '/points/count') {
      return { count: [...c.points.values()].filter((p) => matchFilter(p, body?.filter)).length };
    }
    if (method === 'POST' && rest === '/points/query') {
      const q = body?.query;
      const vector = Array.isArray(q) ? q : q?.nearest;
      return { points: scored(c, vector, body) };
    }
    if (method === 'POST' && rest === '/points/search') return scored(c, body?.vector, body);
    throw new HttpError(404, `Not found: ${method} ${path}`);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const started = Date.now();
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      try {
        const raw = Buffer.concat(chunks).toString('utf8');
        const body = raw ? JSON.parse(raw) : undefined;
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        requests.push({ method: req.method ?? 'GET', path, body });
        const result = route(req.method ?? 'GET', path, body);
        if (path === '/') send(200, result);
        else send(200, { result, status: 'ok', time: (Date.now() - started) / 1000 });
      } catch (err) {
        const status = err instanceof HttpError ? err.status : 400;
        send(status, { status: { error: (err as Error).message }, time: 0 });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    collections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
