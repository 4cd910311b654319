/**
 * The HTTP shell: a plain node:http server with exact-path routes. Adapters add their routes;
 * the shell serves /healthz, /readyz and /metrics itself.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { HttpHandler, HttpRouter } from './router.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export class HttpServer implements HttpRouter {
  private readonly routes = new Map<string, HttpHandler>();
  private server: Server | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly probes: { readiness: ReadinessCheck[]; metrics: () => Promise<{ contentType: string; body: string }> },
  ) {
    this.route('GET', '/healthz', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    this.route('GET', '/readyz', async (_req, res) => {
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
    this.route('GET', '/metrics', async (_req, res) => {
      const m = await this.probes.metrics();
      res.writeHead(200, { 'content-type': m.contentType }).end(m.body);
    });
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
