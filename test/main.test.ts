/**
 * `npm start` as a newcomer meets it when something is wrong: each start-up failure is one line
 * on stderr naming the setting or dependency and what to do, with no stack and no secret, and
 * a non-zero exit. The service runs as its own process (node --import tsx src/main.ts) against
 * unreachable local addresses (127.0.0.1:1), throwaway ports, a fake Discord, and an embedded
 * database in a temporary folder.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord } from './fakes/discord.js';

/** Discord on needs a key to seal the interaction tokens pending answers keep. */
const KEY = Buffer.alloc(32, 7).toString('base64');

let dataDir: string;
let discord: FakeDiscord;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'main-start-'));
  discord = await startFakeDiscord({ token: 'the-real-bot-token', applicationId: '4242' });
});
afterAll(async () => {
  await discord?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts the service with `env` on top of a clean environment and waits for it to exit. */
function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return new Promise((resolve, reject) => {
    // Run from the temporary folder, so a developer's own .env in the checkout plays no part.
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'src/main.ts')], {
      cwd: dataDir,
      env: { ...clean, DATA_DIR: dataDir, OLLAMA_HOST: '127.0.0.1:1', PORT: '0', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not stop within 60 s; stderr: ${stderr}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function expectOneLine(r: { code: number | null; stderr: string }, line: string | RegExp): void {
  expect(r.code).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(typeof line === 'string' ? new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : line);
}

describe('start-up failures', () => {
  it('names an unreachable database with the password hidden', async () => {
    const r = await start({ DATABASE_URL: 'postgres://tenantbot:hunter2@127.0.0.1:1/tenantbot' });
    expectOneLine(
      r,
      'cannot reach the database at postgres://tenantbot:***@127.0.0.1:1/tenantbot (ECONNREFUSED): check DATABASE_URL and that PostgreSQL is running and accepts connections there',
    );
    expect(r.stderr).not.toContain('hunter2');
  });

  it('names a DATA_DIR that is not a writable folder', async () => {
    const file = join(dataDir, 'a-file');
    writeFileSync(file, 'not a folder');
    const r = await start({ DATA_DIR: join(file, 'data') });
    expectOneLine(
      r,
      `DATA_DIR ${join(file, 'data')} is not a writable folder (ENOTDIR): point DATA_DIR at a folder this user can write, or set DATABASE_URL to use a PostgreSQL server`,
    );
  });

  it('names a PORT that is in use', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const r = await start({ PORT: String(port) });
      expectOneLine(r, `PORT ${port} is already in use by another process: stop that process or set PORT to a free port`);
    } finally {
      taken.close();
    }
  });

  it('names an unreachable Discord API', async () => {
    const r = await start({ DISCORD_TOKEN: 'some-token', DISCORD_APPLICATION_ID: '4242', DISCORD_API_URL: 'http://127.0.0.1:1/api', ENCRYPTION_KEY: KEY });
    expectOneLine(
      r,
      'cannot reach the Discord API at http://127.0.0.1:1/api (ECONNREFUSED): check the network and DISCORD_API_URL, or unset DISCORD_TOKEN to run without Discord',
    );
  });

  it('names a Discord token that Discord rejects, without showing it', async () => {
    const r = await start({ DISCORD_TOKEN: 'a-stale-bot-token', DISCORD_APPLICATION_ID: '4242', DISCORD_API_URL: discord.url, ENCRYPTION_KEY: KEY });
    expectOneLine(
      r,
      'DISCORD_TOKEN was rejected by Discord (401 Unauthorized): copy the bot token again from the developer portal (Bot, Reset Token) into DISCORD_TOKEN',
    );
    expect(r.stderr).not.toContain('a-stale-bot-token');
  });

  it('names the Slack settings that are missing', async () => {
    const r = await start({ SLACK_SIGNING_SECRET: 'shh-signing-secret', SLACK_CLIENT_ID: '123.456' });
    expectOneLine(r, /^invalid configuration: SLACK_SIGNING_SECRET, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must be set together \(missing SLACK_CLIENT_SECRET\); /);
    expect(r.stderr).not.toContain('shh-signing-secret');
  });
});
