/**
 * `npm start` with a pool of backends: one log line per backend at start-up (up with the
 * models, lacking some, or not reachable) — warnings, never a stop. The service runs as its own
 * process against two fake Ollamas and an address nothing listens on.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { freePort } from './helpers/service.js';

let dataDir: string;
let full: FakeOllama;
let partial: FakeOllama;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'main-backends-'));
  [full, partial] = await Promise.all([startFakeOllama(), startFakeOllama({ models: ['llama3.2:3b'] })]);
});
afterAll(async () => {
  await Promise.all([full?.close(), partial?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

it('logs one line per backend at start-up and keeps running with one of three unreachable', { timeout: 90_000 }, async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'src/main.ts')], {
    cwd: dataDir,
    env: { ...clean, DATA_DIR: dataDir, OLLAMA_HOST: `${full.url},${partial.url},${dead}`, OLLAMA_PARALLEL: '2,1,3', PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; backend?: string });
  try {
    const deadline = Date.now() + 60_000;
    while (lines().filter((l) => l.backend && /^Ollama backend/.test(l.msg)).length < 3) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no per-backend lines; output:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const perBackend = lines().filter((l) => l.backend && /^Ollama backend/.test(l.msg));
    expect(perBackend.map((l) => [l.backend, l.level])).toEqual([
      [full.url, 30],
      [partial.url, 40],
      [dead, 40],
    ]);
    expect(perBackend[0]!.msg).toBe(`Ollama backend ${full.url} is reachable and has the models`);
    expect(perBackend[1]!.msg).toBe(`Ollama backend ${partial.url} lacks nomic-embed-text: calls for them go to other backends`);
    expect(perBackend[2]!.msg).toMatch(/is not reachable: the others serve meanwhile/);
    expect(child.exitCode).toBeNull();
  } finally {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
});
