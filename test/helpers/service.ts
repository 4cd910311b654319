/**
 * The service as its own process (`node --import tsx src/main.ts`, what `npm start` runs), for
 * tests that kill it, stop it or start it twice. Its JSON log lines are collected; the port it
 * listens on comes from its "listening" line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface RunningService {
  proc: ChildProcess;
  port: number;
  base: string;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<number | string | null>;
  /** kill -9. */
  crash(): Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | string | null>;
}

export async function startService(
  env: Record<string, string>,
  opts: {
    cwd?: string;
    readyTimeoutMs?: number;
    nodeArgs?: string[];
    /** Listen on this port and wait for /healthz instead of the "listening" log line (for LOG_LEVEL above info). */
    port?: number;
  } = {},
): Promise<RunningService> {
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', import.meta.resolve('tsx'), join(process.cwd(), 'src/main.ts')], {
    cwd: opts.cwd ?? process.cwd(),
    env: { ...clean, PORT: String(opts.port ?? 0), LOG_LEVEL: 'info',  ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buffer = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (process.env.SERVICE_STDERR) process.stderr.write(d);
  });
  const exited = new Promise<number | string | null>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start; stderr: ${stderr}`)), opts.readyTimeoutMs ?? 60_000);
    let probing = false;
    const check = setInterval(() => {
      const done = (p: number) => {
        clearInterval(check);
        clearTimeout(timer);
        resolve(p);
      };
      if (opts.port) {
        if (probing) return;
        probing = true;
        void fetch(`http://127.0.0.1:${opts.port}/healthz`).then(
          (r) => (r.ok ? done(opts.port!) : (probing = false)),
          () => (probing = false),
        );
        return;
      }
      const line = logs.find((l) => typeof l.port === 'number' && String(l.msg ?? '').startsWith('listening'));
      if (line) done(line.port as number);
    }, 20);
    void exited.then((code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`the service exited (${code}) before listening; stderr: ${stderr}`));
    });
  });
  return {
    proc,
    port,
    base: `http://127.0.0.1:${port}`,
    logs,
    exited,
    async crash() {
      proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
