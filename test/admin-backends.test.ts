/**
 * `admin backends`: the CLI probes each configured backend itself and reads the running service's
 * /metrics (with METRICS_TOKEN) for slots in use, speed and errors; without a service it says so.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../src/admin/run.js';
import { parseServiceMetrics } from '../src/admin/backends.js';
import { ask, startPool, type PoolWorld } from './helpers/pool.js';
import { freePort } from './helpers/service.js';

const TOKEN = 'metrics-token-0123456789';
let w: PoolWorld | undefined;
let service: Server | undefined;

afterEach(async () => {
  await w?.close();
  w = undefined;
  await new Promise((r) => (service ? service.close(r) : r(undefined)));
  service = undefined;
});

/** Serves the pool's registry as the service's /metrics, behind the bearer token. */
async function serveMetrics(world: PoolWorld): Promise<string> {
  service = createServer(async (req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
    const { contentType, body } = await world.metrics.exposition();
    res.writeHead(200, { 'content-type': contentType }).end(body);
  });
  await new Promise<void>((r) => service!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
}

async function admin(args: string[], env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(args, { env, io: { out: (t) => out.push(t), err: (t) => err.push(t), progress: process.stderr } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('admin backends', () => {
  it("shows each backend's probe and, from the running service, its state, slots in use, speed and errors", async () => {
    w = await startPool([{ tokenDelayMs: 1 }, { models: ['llama3.2:3b'] }], { slots: [2, 3] });
    w.fakes[1]!.failNext({ status: 500, path: '/api/chat' });
    // Two calls: the second backend is picked once (fewer calls), fails, and the call moves on.
    await ask(w.pool, 'one');
    await ask(w.pool, 'two');
    const url = await serveMetrics(w);
    const env = { OLLAMA_HOST: w.fakes.map((f) => f.url).join(','), OLLAMA_PARALLEL: '2,3', METRICS_TOKEN: TOKEN, LOG_LEVEL: 'silent' };

    const json = await admin(['backends', '--service', url, '--json'], env);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.out);
    expect(r.service).toEqual({ url, reachable: true });
    expect(r.backends[0]).toMatchObject({ url: w.fakes[0]!.url, reachable: true, version: '0.6.8', slots: 2, models: ['llama3.2:3b', 'nomic-embed-text:latest'] });
    expect(r.backends[0].service).toMatchObject({ up: true, slots: 2, inUse: 0, errors: {} });
    expect(r.backends[0].service.calls).toBeGreaterThanOrEqual(2);
    expect(r.backends[0].service.tokensPerSecond).toBeGreaterThan(0);
    expect(r.backends[1]).toMatchObject({ reachable: true, models: ['llama3.2:3b'], slots: 3 });
    expect(r.backends[1].service).toMatchObject({ slots: 3, calls: 1, errors: { failed: 1 }, failovers: 1 });

    const text = await admin(['backends', '--service', url], env);
    const lines = text.out.split('\n');
    expect(lines[0]).toMatch(/^BACKEND\s+REACHABLE\s+VERSION\s+PROBE\s+MODELS\s+SERVICE SEES\s+IN USE\s+TOKENS\/S\s+CALLS\s+ERRORS$/);
    expect(lines[2]).toMatch(new RegExp(`^${w.fakes[0]!.url}\\s+yes\\s+0\\.6\\.8\\s+\\d+ ms\\s+llama3\\.2:3b, nomic-embed-text:latest\\s+up\\s+0/2\\s+[\\d.]+\\s+\\d+\\s+0$`));
    expect(lines[3]).toMatch(/\s+0\/3\s+.*failed 1$/);
    expect(text.out).toContain(`service at ${url}: read its /metrics`);
  });

  it('says when the service cannot be reached or refuses the token, and still shows the probes; exits 1 when no backend answers', async () => {
    w = await startPool([{}]);
    const closed = await freePort();
    const env = { OLLAMA_HOST: `${w.fakes[0]!.url},127.0.0.1:${closed}`, LOG_LEVEL: 'silent', PORT: String(closed) };
    const r = await admin(['backends'], env);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`service at http://127.0.0.1:${closed} could not be reached (ECONNREFUSED): slots in use, speed and errors are not shown`);
    expect(r.out).toMatch(new RegExp(`http://127\\.0\\.0\\.1:${closed}\\s+no \\(the model server cannot be reached \\(ECONNREFUSED\\)\\)`));

    const url = await serveMetrics(w);
    const wrongToken = await admin(['backends', '--service', url, '--json'], env);
    expect(JSON.parse(wrongToken.out).service).toEqual({ url, reachable: false, error: "HTTP 401 (set METRICS_TOKEN to the service's)" });

    const none = await admin(['backends'], { OLLAMA_HOST: `127.0.0.1:${closed}`, LOG_LEVEL: 'silent', PORT: String(closed) });
    expect(none.code).toBe(1);
    expect(await admin(['backends', '--service', 'localhost'], env)).toMatchObject({ code: 2, err: 'error: bad --service "localhost"; use the service\'s base URL, such as http://127.0.0.1:3000' });
  });

  it('reads backend labels with escaped characters from the Prometheus text', () => {
    const views = parseServiceMetrics(
      ['bot_backend_slots_in_use{backend="http://a:1"} 2', 'bot_backend_errors_total{backend="http://a:1",kind="stalled"} 3', 'bot_backend_up{backend="http://b\\"x"} 0'].join('\n'),
    );
    expect(views.get('http://a:1')).toEqual({ inUse: 2, errors: { stalled: 3 } });
    expect(views.get('http://b"x')).toEqual({ up: false, errors: {} });
  });
});
