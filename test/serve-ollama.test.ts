/**
 * `npm run fake-ollama` as the README's quick start uses it: one line when it is up, the real
 * Ollama API on the given port, and the port freed again on Ctrl-C (SIGINT to the terminal's
 * process group), on SIGTERM, and when npm itself is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function waitFor(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `npm run fake-ollama -- PORT` in its own process group, as a terminal runs it. */
function run(port: number): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn('npm', ['run', '--silent', 'fake-ollama', '--', String(port)], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

describe('npm run fake-ollama', () => {
  it('prints one line, answers on the port, and frees it on Ctrl-C', async () => {
    const port = await freePort();
    const fake = run(port);
    try {
      await waitFor(() => fake.out().includes('\n'), 'the start line');
      expect(fake.out()).toBe(`fake Ollama listening on http://127.0.0.1:${port} (Ctrl-C stops it)\n`);
      const version = await fetch(`http://127.0.0.1:${port}/api/version`);
      expect(version.status).toBe(200);
      process.kill(-fake.child.pid!, 'SIGINT');
      await fake.exited;
      await waitFor(() => canListen(port), 'the port to be free');
    } finally {
      try {
        process.kill(-fake.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('frees the port when npm is stopped with SIGTERM, and says when the port is taken', async () => {
    const port = await freePort();
    const fake = run(port);
    try {
      await waitFor(() => fake.out().includes('listening'), 'the start line');
      const second = run(port);
      expect(await second.exited).toBe(1);
      expect(second.err().trim()).toBe(`fake Ollama: port ${port} is in use (a real Ollama, or another fake?); pick another: npm run fake-ollama -- 11500`);

      fake.child.kill('SIGTERM');
      await waitFor(() => canListen(port), 'the port to be free');
    } finally {
      try {
        process.kill(-fake.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});
