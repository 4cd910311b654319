/**
 * The console adapter as a user runs it: `npm run chat` with piped input, against the fake
 * Ollama; quitting with /quit or /exit, and Ctrl-C (SIGINT) stopping an answer or the console.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
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

  it('adds a file for this channel only with --here, before or after --file, and other channels never see it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'console-data-'));
    const env = { DATABASE_URL: '', TEST_DATABASE_URL: '', DATA_DIR: dataDir, OLLAMA_HOST: fake.url, LOG_LEVEL: 'error' };
    const files = await mkdtemp(join(tmpdir(), 'console-files-'));
    await writeFile(join(files, 'pay.md'), '# Pay\nSalaries are paid on the 25th, code word TEAL-PAY.');
    await writeFile(join(files, 'bonus.md'), '# Bonus\nBonuses are paid in March, code word AMBER-BONUS.');
    const lines = [`/llm knowledge add --here --file ${join(files, 'pay.md')}`, `/llm knowledge add --file ${join(files, 'bonus.md')} --here Bonus`, '/llm knowledge list'];
    const hr = await chat(['--workspace', 'scoped', '--channel', 'hr', '--admin'], `${lines.join('\n')}\n`, env);
    expect(hr.code).toBe(0);
    expect(hr.out).toMatch(/Added \*\*pay\.md\*\*.*only in #hr/);
    expect(hr.out).toMatch(/Added \*\*Bonus\*\*.*only in #hr/);
    const dev = await chat(['--workspace', 'scoped', '--channel', 'dev'], 'when are salaries and bonuses paid?\n', env);
    expect(dev.code).toBe(0);
    const prompt = fake.chatRequests().at(-1)!.body.messages.map((m: any) => m.content).join('\n');
    expect(prompt).toContain('when are salaries and bonuses paid?');
    expect(prompt).not.toMatch(/TEAL-PAY|AMBER-BONUS/);
  });

  it.for(['/quit', '/exit'])('ends at %s: the lines after it never reach the model', async (word, ctx) => {
    if (!db.url) ctx.skip(); // another process needs a server database
    const r = await chat(['--workspace', 'quit-co', '--channel', 'desk'], `first question\n${word}\nnever asked\n`, {
      DATABASE_URL: db.url!,
      OLLAMA_HOST: fake.url,
      LOG_LEVEL: 'error',
    });
    expect(r.code).toBe(0);
    expect(r.out).toContain('Answer to: first question');
    expect(r.out).not.toContain('never asked');
    expect(fake.chatRequests().some((q) => JSON.stringify(q.body).includes('never asked'))).toBe(false);
  });

  it('stops the answer being written on Ctrl-C and goes on with the next line; Ctrl-C with nothing running quits', async (ctx) => {
    if (!db.url) ctx.skip();
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      ['--import', 'tsx', 'adapters/console/cli.ts', '--workspace', 'ctrl-c-co', '--channel', 'desk'],
      { env: { ...process.env, DATABASE_URL: db.url!, OLLAMA_HOST: fake.url, LOG_LEVEL: 'error' }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const asked = fake.chatRequests().length;
    fake.reply = (req) => {
      const question: string = req.messages.at(-1).content;
      return question.includes('everything') ? 'word '.repeat(500) : `Answer to: ${question}`;
    };
    fake.tokenDelayMs = 50;
    try {
      child.stdin.write('tell me everything\n');
      await waitFor(() => fake.chatRequests().length > asked && fake.inFlight > 0, 'the answer to start');
      child.kill('SIGINT');
      await waitFor(() => out.includes('The answer was cancelled.'), 'the cancel notice');
      // The backend call itself is closed, not left running behind the notice.
      await waitFor(() => fake.inFlight === 0, 'the backend call to end');

      fake.tokenDelayMs = 0;
      child.stdin.write('and now?\n');
      await waitFor(() => out.includes('Answer to: and now?'), 'the next answer');
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      fake.reply = undefined;
      fake.tokenDelayMs = 0;
      child.kill('SIGKILL');
    }
  });
});

async function waitFor(done: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
