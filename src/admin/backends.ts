/**
 * `admin backends`: each configured Ollama backend as the operator needs to see it. The CLI probes
 * every backend itself (reachable? version, models, how long the probe took), and reads the
 * running service's /metrics for what only the service knows: its view of each backend (up or
 * cooling down), slots in use, measured tokens per second, calls and errors. When the service
 * cannot be reached that is said plainly, and the probe results still stand.
 */
import type { Config } from '../config.js';
import { redactUrl } from '../config-fields.js';
import { OllamaBackend } from '../llm/ollama-backend.js';
import { POOL_METRICS } from '../llm/pool/pool-metrics.js';
import { formatTable } from './table.js';

export interface ServiceView {
  up?: boolean;
  slots?: number;
  inUse?: number;
  tokensPerSecond?: number;
  calls?: number;
  errors: Record<string, number>;
  failovers?: number;
}

export interface BackendReport {
  /** Without credentials. */
  url: string;
  reachable: boolean;
  version?: string;
  models?: string[];
  probeMs?: number;
  error?: string;
  /** Slots configured for it (OLLAMA_PARALLEL). */
  slots: number;
  /** The running service's view; undefined when the service could not be read. */
  service?: ServiceView;
}

export interface BackendsReport {
  backends: BackendReport[];
  service: { url: string; reachable: boolean; error?: string };
}

const label = (url: string) => redactUrl(url).replace(/\/$/, '');

async function probe(host: string, slots: number, fetchImpl?: typeof fetch): Promise<BackendReport> {
  const backend = new OllamaBackend({ host, stallMs: 5_000, timeoutMs: 5_000, healthTimeoutMs: 3_000, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  const started = performance.now();
  try {
    const p = await backend.probe();
    return { url: label(host), reachable: true, version: p.version, models: p.models, probeMs: Math.round(performance.now() - started), slots };
  } catch (err) {
    return { url: label(host), reachable: false, error: (err as Error).message, slots };
  }
}

/** The service's per-backend series from Prometheus text: backend label -> view. */
export function parseServiceMetrics(text: string): Map<string, ServiceView> {
  const views = new Map<string, ServiceView>();
  const view = (b: string) => views.get(b) ?? (views.set(b, { errors: {} }), views.get(b)!);
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!.replace(/\\(.)/g, '$1')]));
    const backend = labels.backend;
    if (!backend || !m[1] || !m[3]) continue;
    const value = Number(m[3]);
    const v = view(backend);
    if (m[1] === POOL_METRICS.up) v.up = value === 1;
    else if (m[1] === POOL_METRICS.slots) v.slots = value;
    else if (m[1] === POOL_METRICS.inUse) v.inUse = value;
    else if (m[1] === POOL_METRICS.speed) v.tokensPerSecond = Math.round(value * 10) / 10;
    else if (m[1] === POOL_METRICS.calls) v.calls = value;
    else if (m[1] === POOL_METRICS.failovers) v.failovers = value;
    else if (m[1] === POOL_METRICS.errors && labels.kind) v.errors[labels.kind] = value;
  }
  return views;
}

export async function backendsReport(config: Config, o: { serviceUrl?: string; fetch?: typeof fetch } = {}): Promise<BackendsReport> {
  const fetchImpl = o.fetch ?? globalThis.fetch;
  const serviceUrl = (o.serviceUrl ?? `http://127.0.0.1:${config.PORT}`).replace(/\/$/, '');
  const [backends, metrics] = await Promise.all([
    Promise.all(config.OLLAMA_BACKENDS.map((b) => probe(b.host, b.parallel, o.fetch))),
    fetchImpl(`${serviceUrl}/metrics`, {
      headers: config.METRICS_TOKEN ? { authorization: `Bearer ${config.METRICS_TOKEN}` } : {},
      signal: AbortSignal.timeout(3_000),
    }).then(
      async (res): Promise<{ text?: string; error?: string }> =>
        res.ok ? { text: await res.text() } : { error: `HTTP ${res.status}${res.status === 401 ? " (set METRICS_TOKEN to the service's)" : ''}` },
      (err: unknown): { text?: string; error?: string } => ({ error: causeText(err) }),
    ),
  ]);
  const service = { url: label(serviceUrl), reachable: metrics.text !== undefined, ...(metrics.error ? { error: metrics.error } : {}) };
  if (metrics.text !== undefined) {
    const views = parseServiceMetrics(metrics.text);
    for (const b of backends) b.service = views.get(b.url) ?? { errors: {} };
  }
  return { backends, service };
}

/** fetch's "fetch failed" says nothing; its cause (ECONNREFUSED ...) does. */
function causeText(err: unknown): string {
  const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

const errorsText = (e: Record<string, number>) =>
  Object.entries(e)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '0';

export function renderBackends(r: BackendsReport): string {
  const table = formatTable(
    [
      'BACKEND',
      'REACHABLE',
      'VERSION',
      'PROBE',
      'MODELS',
      'SERVICE SEES',
      { header: 'IN USE', right: true },
      { header: 'TOKENS/S', right: true },
      { header: 'CALLS', right: true },
      'ERRORS',
    ],
    r.backends.map((b) => [
      b.url,
      b.reachable ? 'yes' : `no (${b.error})`,
      b.version,
      b.probeMs !== undefined ? `${b.probeMs} ms` : undefined,
      b.models?.join(', '),
      b.service ? (b.service.up === undefined ? 'not in the pool' : b.service.up ? 'up' : 'cooling down') : undefined,
      b.service ? `${b.service.inUse ?? 0}/${b.service.slots ?? b.slots}` : `-/${b.slots}`,
      b.service?.tokensPerSecond,
      b.service?.calls,
      b.service ? errorsText(b.service.errors) : undefined,
    ]),
  );
  const service = r.service.reachable
    ? `service at ${r.service.url}: read its /metrics`
    : `service at ${r.service.url} could not be reached (${r.service.error}): slots in use, speed and errors are not shown (start it, or pass --service URL)`;
  return `${table}\n\n${service}`;
}
