/**
 * The HTTP shell: a plain node:http server with exact-path routes. Adapters add their routes;
 * the shell serves /healthz, /readyz and /metrics itself (the last behind a bearer token when
 * METRICS_TOKEN is set, since per-tenant series say who uses the bot how much).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { HttpHandler, HttpRouter } from './router.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface HttpProbes {
  readiness: ReadinessCheck[];
  metrics: () => Promise<{ contentType: string; body: string }>;
  /** When set, /metrics answers 401 unless the request carries `Authorization: Bearer <token>`. */
  metricsToken?: string;
}

export class HttpServer implements HttpRouter {
  private readonly routes = new Map<string, HttpHandler>();
  private server: Server | null = null;
  /** Set when the instance is shutting down: a load balancer stops sending it traffic. */
  private draining = false;

  constructor(
    private readonly logger: Logger,
    private readonly probes: HttpProbes,
  ) {
    this.route('GET', '/healthz', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    this.route('GET', '/readyz', async (_req, res) => {
      if (this.draining) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"draining"}');
        return;
      }
      const results = await Promise.all(
        this.probes.readiness.map(async (p) => {
          try {
            await withTimeout(p.check(), 3000);
            return [p.name, 'ok'] as const;
          } catch (err) {
            return [p.name, `unavailable: ${err instanceof Error ? err.message : String(err)}`] as const;
          }
        }),
      );
      const ok = results.every(([, v]) => v === 'ok');
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ready' : 'not ready', checks: Object.fromEntries(results) }));
    });
    this.route('GET', '/metrics', async (req, res) => {
      if (!this.mayReadMetrics(req)) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' }).end('unauthorized: send Authorization: Bearer <METRICS_TOKEN>');
        return;
      }
      const m = await this.probes.metrics();
      res.writeHead(200, { 'content-type': m.contentType }).end(m.body);
    });
  }

  /** Readiness goes false for good (shutdown); every other route keeps working until close(). */
  drain(): void {
    this.draining = true;
  }

  private mayReadMetrics(req: IncomingMessage): boolean {
    const token = this.probes.metricsToken;
    if (!token) return true;
    const given = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    // Compared as digests so the comparison takes the same time whatever the length.
    const digest = (v: string) => createHash('sha256').update(v).digest();
    return timingSafeEqual(digest(given), digest(token));
  }

  route(method: 'GET' | 'POST', path: string, handler: HttpHandler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  /** Starts listening; resolves with the bound port (pass 0 for any free port). */
  async listen(port: number, host?: string): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const handler = this.routes.get(`${req.method} ${path}`);
      if (!handler) {
        const known = [...this.routes.keys()].some((k) => k.endsWith(` ${path}`));
        res.writeHead(known ? 405 : 404, { 'content-type': 'text/plain' }).end(known ? 'method not allowed' : 'not found');
        return;
      }
      Promise.resolve()
        .then(() => handler(req, res))
        .catch((err) => {
          this.logger.error({ err, path }, 'http handler failed');
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          if (!res.writableEnded) res.end('internal error');
        });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
