/**
 * The Slack end-to-end setup the Slack test files share: a fake Slack (SLACK_API_URL) and a fake
 * Ollama, the real core on a fresh test database, the real Bolt app mounted on the core's HTTP
 * shell, two workspaces (Acme, Beta) ready to be installed through the real OAuth routes, signed
 * deliveries, and every log line kept (to check no token or message text leaks).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { expect, vi } from 'vitest';
import { createCore, type Core } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startSlack, type SlackAdapter, type StartSlackOptions } from '../../adapters/slack/index.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { startFakeOllama, type FakeOllama, type FakeOllamaOptions } from '../fakes/ollama.js';
import { deliver, startFakeSlack, type DeliveryOptions, type FakeSlack, type FakeWorkspace } from '../fakes/slack-api.js';

export const SIGNING_SECRET = 'test-signing-secret';

export interface SlackHarness {
  slack: FakeSlack;
  ollama: FakeOllama;
  tdb: TestDatabase;
  core: Core;
  adapter: SlackAdapter;
  cfg: Core['config'];
  base: string;
  acme: FakeWorkspace;
  beta: FakeWorkspace;
  /** What the listeners and jobs reported done, in order (see StartSlackOptions.onHandled). */
  handled: string[];
  /** Everything the service logged, at debug level. */
  logLines: string[];
  /** Signs and POSTs a delivery to /slack/events. */
  send(payload: Record<string, unknown>, o?: DeliveryOptions): Promise<Response>;
  waitHandled(n: number): Promise<void>;
  /** Installs a workspace through /slack/install and /slack/oauth_redirect; resolves with the redirect's response. */
  install(ws: FakeWorkspace): Promise<Response>;
  close(): Promise<void>;
}

export interface SlackHarnessOptions {
  env?: Record<string, string>;
  ollama?: FakeOllamaOptions;
  slack?: Omit<StartSlackOptions, 'onHandled'>;
}

export async function startSlackHarness(o: SlackHarnessOptions = {}): Promise<SlackHarness> {
  const handled: string[] = [];
  const logLines: string[] = [];
  const logSink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  const slack = await startFakeSlack();
  const ollama = await startFakeOllama({ models: ['llama3.2:3b', 'nomic-embed-text'], tokenDelayMs: 3, ...o.ollama });
  const tdb = await createTestDatabase();
  const cfg = loadConfig({
    LOG_LEVEL: 'silent',
    OLLAMA_HOST: ollama.url,
    SLACK_API_URL: slack.apiUrl,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_CLIENT_ID: slack.clientId,
    SLACK_CLIENT_SECRET: slack.clientSecret,
    SLACK_STATE_SECRET: 'state-secret',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PUBLIC_URL: 'http://bot.test',
    ...o.env,
  });
  const core = await createCore(cfg, { database: tdb.database, logger: createLogger('debug', logSink) });
  const adapter = await startSlack(core, { minUpdateIntervalMs: 20, ...o.slack, onHandled: (w) => handled.push(w) });
  const base = `http://127.0.0.1:${await core.http.listen(0, '127.0.0.1')}`;
  const acme = slack.addWorkspace({
    teamId: 'TACME', teamName: 'Acme', botUserId: 'UBOTA', botId: 'BBOTA', botToken: 'xoxb-acme-secret', installerUserId: 'UINSTA', code: 'code-acme',
    users: { UADMA: { isAdmin: true }, UPLAINA: {}, UINSTA: {} },
  });
  const beta = slack.addWorkspace({
    teamId: 'TBETA', teamName: 'Beta', botUserId: 'UBOTB', botId: 'BBOTB', botToken: 'xoxb-beta-secret', installerUserId: 'UINSTB', code: 'code-beta',
    users: { UOWNB: { isOwner: true }, UPLAINB: {} },
  });
  return {
    slack,
    ollama,
    tdb,
    core,
    adapter,
    cfg,
    base,
    acme,
    beta,
    handled,
    logLines,
    send: (payload, d = {}) => deliver(`${base}/slack/events`, SIGNING_SECRET, payload, d),
    waitHandled: (n) => vi.waitFor(() => expect(handled.length).toBeGreaterThanOrEqual(n), { timeout: 15_000, interval: 20 }),
    async install(ws) {
      const start = await fetch(`${base}/slack/install`, { redirect: 'manual' });
      expect(start.status).toBe(302);
      const authorize = new URL(start.headers.get('location')!);
      expect(authorize.searchParams.get('redirect_uri')).toBe('http://bot.test/slack/oauth_redirect');
      const state = authorize.searchParams.get('state')!;
      const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
      expect(cookie.startsWith('slack-app-oauth-state=')).toBe(true);
      return fetch(`${base}/slack/oauth_redirect?code=${ws.code}&state=${encodeURIComponent(state)}`, { headers: { cookie } });
    },
    async close() {
      await core.close();
      await tdb.drop();
      await ollama.close();
      await slack.close();
    },
  };
}
