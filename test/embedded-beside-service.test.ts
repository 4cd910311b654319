/**
 * The README's two-terminal use of the embedded database: `npm start` owns DATA_DIR while the
 * operator CLI and a second console work on the same database through it — one engine, no lost
 * update. An operator change takes effect in the running service within the tenant cache's
 * lifetime (a disabled workspace stops being answered) and survives a restart.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack, type FakeWorkspace } from './fakes/slack-api.js';
import { deliver, eventEnvelope, mentionEvent } from './fakes/slack-payloads.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { eventually, startService, type RunningService } from './helpers/service.js';

const SIGNING_SECRET = 'beside-signing-secret';
let dataDir: string;
let slack: FakeSlack;
let ollama: FakeOllama;
let ws: FakeWorkspace;
let env: Record<string, string>;
const running: RunningService[] = [];

/** Runs a tool (`npm run admin` or `npm run chat`) in its own process with `input` piped in. */
function tool(script: string, args: string[], input = ''): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, LOG_LEVEL: 'info' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
    p.stdin.end(input);
  });
}
const admin = (...args: string[]) => tool('src/admin/cli.ts', args);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'beside-'));
  slack = await startFakeSlack();
  ollama = await startFakeOllama({ models: ['llama3.2:3b', 'nomic-embed-text'] });
  ws = slack.addWorkspace({
    teamId: 'TBES', teamName: 'Beside', botUserId: 'UBOTB', botId: 'BBOTB', botToken: 'xoxb-beside', installerUserId: 'UASK', code: 'code-bes',
    users: { UASK: {} },
  });
  env = {
    DATA_DIR: dataDir,
    OLLAMA_HOST: ollama.url,
    SLACK_API_URL: slack.apiUrl,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_CLIENT_ID: slack.clientId,
    SLACK_CLIENT_SECRET: slack.clientSecret,
    SLACK_STATE_SECRET: 'beside-state-secret',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PUBLIC_URL: 'http://bot.test',
  };
}, 60_000);

afterAll(async () => {
  for (const svc of running) if (svc.proc.exitCode === null && svc.proc.signalCode === null) await svc.crash();
  rmSync(dataDir, { recursive: true, force: true });
  await ollama?.close();
  await slack?.close();
});

describe('the operator CLI and a console beside the running service (embedded database)', () => {
  it('share the service’s database through it, and an operator change reaches the service and survives a restart', async () => {
    const svc = await startService(env);
    running.push(svc);
    const start = await fetch(`${svc.base}/slack/install`, { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${svc.base}/slack/oauth_redirect?code=${ws.code}&state=${encodeURIComponent(state)}`, { headers: { cookie } })).status).toBe(200);

    // The CLI sees what the service wrote, through the service.
    const list = await admin('tenants', 'list', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out).map((t: { externalId: string }) => t.externalId)).toContain('TBES');

    // A second console answers through the same database and engine-free socket.
    const chat = await tool('adapters/console/cli.ts', ['--workspace', 'side', '--channel', 'desk'], 'hello from the side\n');
    expect(chat.code).toBe(0);
    expect(chat.out).toContain('hello from the side');
    expect(chat.err).toMatch(/through process \d+/);

    // The operator disables the Slack workspace while the service runs: within the tenant cache's
    // lifetime the service stops answering it (one "disabled" notice instead).
    expect(await admin('tenants', 'disable', 'slack', 'TBES')).toMatchObject({ code: 0, err: '' });
    let n = 0;
    await eventually(
      async () => {
        const ts = `9100.0001${String((n += 1)).padStart(2, '0')}`;
        await deliver(`${svc.base}/slack/events`, SIGNING_SECRET, eventEnvelope(ws, mentionEvent(ws, { channel: 'CBES', user: 'UASK', text: 'still there?', ts })));
        return eventually(() => slack.botMessages(ws.botToken).find((m) => m.threadTs === ts), 'a reply').then((m) => /disabled/.test(m.text));
      },
      'the service to see the workspace disabled',
      20_000,
    );

    // The change was written once, by one engine, and survives the restart.
    expect(await svc.stop()).toBe(0);
    const next = await startService(env);
    running.push(next);
    const show = await admin('tenants', 'show', 'slack', 'TBES', '--json');
    expect(JSON.parse(show.out).tenant.status).toBe('disabled');
    await next.stop();

    // With nothing running, the CLI opens the folder itself.
    const alone = await admin('tenants', 'show', 'slack', 'TBES', '--json');
    expect(alone.code).toBe(0);
    expect(JSON.parse(alone.out).tenant.status).toBe('disabled');
  });
});
