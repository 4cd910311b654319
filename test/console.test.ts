/** The console adapter as a user runs it: `npm run chat` with piped input, against the fake Ollama. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';

let db: TestDatabase;
let fake: FakeOllama;

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeOllama();
});
afterAll(async () => {
  await fake?.close();
  await db?.drop();
});

function chat(args: string[], input: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'adapters/console/cli.ts', ...args], {
      env: { ...process.env, ...env },
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

describe('console adapter', () => {
  it('answers piped lines in order, runs commands and keeps memory', async (ctx) => {
    if (!db.url) ctx.skip(); // another process needs a server database
    const dir = await mkdtemp(join(tmpdir(), 'console-'));
    const file = join(dir, 'faq.md');
    await writeFile(file, '# FAQ\nThe office opens at nine.');
    const lines = ['first question', '/llm persona list', '/llm channel mode all', 'second question', `/llm knowledge add --file ${file}`].join('\n');
    const r = await chat(['--workspace', 'cli-co', '--channel', 'desk', '--user', 'dana', '--admin'], `${lines}\n`, {
      DATABASE_URL: db.url!,
      OLLAMA_HOST: fake.url,
      LOG_LEVEL: 'error',
    });
    expect(r.code).toBe(0);
    const out = r.out.split('\n');
    const first = out.findIndex((l) => l.includes('Answer to: first question'));
    const personas = out.findIndex((l) => l.startsWith('Personas:'));
    const mode = out.findIndex((l) => l.includes('answer to every message'));
    const second = out.findIndex((l) => l.includes('Answer to: second question'));
    expect(first).toBeGreaterThanOrEqual(0);
    expect(personas).toBeGreaterThan(first);
    expect(mode).toBeGreaterThan(personas);
    expect(second).toBeGreaterThan(mode);
    // The knowledge line answers either with the stored document or a clear "not available".
    expect(out.slice(second + 1).join('\n')).toMatch(/faq\.md|knowledge|not available/i);
    const second_prompt = fake.chatRequests().at(-1)!.body.messages.map((m: any) => m.content);
    expect(second_prompt).toContain('first question');
  });

  it('refuses a non-admin and explains the arguments when they are missing', async (ctx) => {
    if (!db.url) ctx.skip();
    const r = await chat(['--workspace', 'cli-co', '--channel', 'desk'], '/llm channel mode off\n', {
      DATABASE_URL: db.url!,
      OLLAMA_HOST: fake.url,
      LOG_LEVEL: 'error',
    });
    expect(r.out).toContain('Only admins can do that.');
    const bad = await chat([], '', {});
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('usage: npm run chat');
  });

  it('cites a document an admin added, and another workspace never sees it (embedded database)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'console-data-'));
    const env = { DATABASE_URL: '', TEST_DATABASE_URL: '', DATA_DIR: dataDir, OLLAMA_HOST: fake.url, LOG_LEVEL: 'error' };
    const add = await chat(
      ['--workspace', 'acme', '--channel', 'general', '--admin'],
      '/llm knowledge add Opening hours: The Oslo office opens at nine and closes at five on weekdays.\nwhen does the Oslo office open?\n',
      env,
    );
    expect(add.code).toBe(0);
    expect(add.out).toMatch(/Added \*\*Opening hours\*\*/);
    expect(add.out).toContain('Sources: Opening hours');
    const prompt = fake.chatRequests().at(-1)!.body.messages.map((m: any) => m.content).join('\n');
    expect(prompt).toContain('opens at nine');

    const other = await chat(['--workspace', 'globex', '--channel', 'general', '--admin'], 'when does the Oslo office open?\n/llm knowledge list\n', env);
    expect(other.code).toBe(0);
    expect(other.out).not.toContain('Sources:');
    expect(other.out).toContain('No documents yet');
    const otherPrompt = fake.chatRequests().at(-1)!.body.messages.map((m: any) => m.content).join('\n');
    expect(otherPrompt).not.toContain('opens at nine');
  });
});
