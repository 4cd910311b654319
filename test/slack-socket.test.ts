/**
 * Socket Mode (development): events arrive over the WebSocket that apps.connections.open (on
 * SLACK_API_URL, with the app-level token) hands out; installs still go through the HTTP routes.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCore, type Core } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startSlack, type SlackAdapter } from '../adapters/slack/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { eventEnvelope, mentionEvent, startFakeSlack, type FakeSlack, type FakeWorkspace } from './fakes/slack-api.js';

let slack: FakeSlack;
let ollama: FakeOllama;
let tdb: TestDatabase;
let core: Core;
let adapter: SlackAdapter | undefined;
let base: string;
let ws: FakeWorkspace;
const handled: string[] = [];

const config = (appToken: string) =>
  loadConfig({
    LOG_LEVEL: 'silent',
    OLLAMA_HOST: ollama.url,
    SLACK_API_URL: slack.apiUrl,
    SLACK_SIGNING_SECRET: 'unused-in-socket-mode',
    SLACK_CLIENT_ID: slack.clientId,
    SLACK_CLIENT_SECRET: slack.clientSecret,
    SLACK_APP_TOKEN: appToken,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  });

beforeAll(async () => {
  slack = await startFakeSlack();
  ollama = await startFakeOllama({ models: ['llama3.2:3b', 'nomic-embed-text'], tokenDelayMs: 2 });
  tdb = await createTestDatabase();
  ws = slack.addWorkspace({ teamId: 'TSOCK', teamName: 'Sock', botUserId: 'UBOTS', botId: 'BBOTS', botToken: 'xoxb-sock', installerUserId: 'UINS', code: 'code-sock', users: { UINS: {} } });
});

afterAll(async () => {
  await adapter?.close();
  await core?.close();
  await tdb?.drop();
  await ollama?.close();
  await slack?.close();
});

describe('Slack Socket Mode', () => {
  it('fails to start with an app token Slack refuses, asking SLACK_API_URL', async () => {
    const c = await createCore(config('xapp-1-wrong'), { database: tdb.database, logger: createLogger('silent') });
    try {
      await expect(startSlack(c)).rejects.toThrow(/invalid_auth/);
      expect(slack.callsOf('apps.connections.open').map((x) => x.token)).toEqual(['xapp-1-wrong']);
    } finally {
      await c.close();
    }
  });

  it('installs over HTTP and answers a mention delivered over the socket', async () => {
    slack.enableSocketMode('xapp-1-good');
    core = await createCore(config('xapp-1-good'), { database: tdb.database, logger: createLogger('silent') });
    adapter = await startSlack(core, { minUpdateIntervalMs: 20, onHandled: (w) => handled.push(w) });
    base = `http://127.0.0.1:${await core.http.listen(0, '127.0.0.1')}`;
    expect(slack.openSockets).toBe(1);
    // Events come over the socket only.
    expect((await fetch(`${base}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(404);

    const start = await fetch(`${base}/slack/install`, { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${base}/slack/oauth_redirect?code=${ws.code}&state=${state}`, { headers: { cookie } })).status).toBe(200);

    ollama.reply = () => 'over the socket';
    const envelopeId = await slack.socketDeliver('events_api', eventEnvelope(ws, mentionEvent(ws, { channel: 'CS', user: 'UINS', text: 'hi', ts: '5000.000100' })));
    expect(slack.socketAcks).toContain(envelopeId);
    await vi.waitFor(() => expect(handled).toContain('job:answered'), { timeout: 15_000, interval: 20 });
    expect(slack.botMessages('xoxb-sock').filter((m) => m.threadTs === '5000.000100').map((m) => m.text)).toEqual(['over the socket']);

    await adapter.close();
    adapter = undefined;
    await vi.waitFor(() => expect(slack.openSockets).toBe(0), { timeout: 5_000, interval: 20 });
  });
});
