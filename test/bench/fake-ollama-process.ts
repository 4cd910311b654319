/**
 * The bench's fake Ollama in a child process of its own, like a real Ollama: its streaming
 * work must not share the engine's event loop, or it would be counted as orchestration
 * overhead. It records every change of the number of requests being generated, with
 * wall-clock times, so the parent can compute slot utilisation exactly.
 *
 * Parent side: startFakeOllamaProcess(); child side: this file run with --import tsx.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFakeOllama } from '../fakes/ollama.js';

export interface FakeOllamaProcessOptions {
  tokenDelayMs: number;
  slots: number;
  answer: string;
}

export interface FakeOllamaStats {
  /** [epoch ms, requests being generated] after each change. */
  processing: { t: number; value: number }[];
  chatRequests: number;
}

export interface FakeOllamaProcess {
  url: string;
  stats(): Promise<FakeOllamaStats>;
  close(): Promise<void>;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const epochNow = () => performance.timeOrigin + performance.now();

export async function startFakeOllamaProcess(opts: FakeOllamaProcessOptions): Promise<FakeOllamaProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, FAKE_OLLAMA_OPTS: JSON.stringify(opts) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type: string) =>
    new Promise<any>((resolve, reject) => {
      const onMessage = (m: any) => {
        if (m?.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null) => reject(new Error(`fake Ollama process exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await next('ready');
  return {
    url: ready.url,
    async stats() {
      const reply = next('stats');
      child.send({ type: 'stats' });
      const m = await reply;
      return { processing: m.processing, chatRequests: m.chatRequests };
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'close' });
      await exited;
    },
  };
}

async function runChild(): Promise<void> {
  const opts = JSON.parse(process.env.FAKE_OLLAMA_OPTS!) as FakeOllamaProcessOptions;
  const fake = await startFakeOllama({ tokenDelayMs: opts.tokenDelayMs, parallel: opts.slots });
  fake.reply = () => opts.answer;
  const changes: { t: number; value: number }[] = [];
  // Record each change exactly: the fake counts with `this.processing++ / --`.
  let value = fake.processing;
  Object.defineProperty(fake, 'processing', {
    get: () => value,
    set: (v: number) => {
      value = v;
      changes.push({ t: epochNow(), value: v });
    },
  });
  process.on('message', async (m: any) => {
    if (m?.type === 'stats') process.send!({ type: 'stats', processing: changes, chatRequests: fake.chatRequests().length });
    if (m?.type === 'close') {
      await fake.close();
      process.exit(0);
    }
  });
  process.send!({ type: 'ready', url: fake.url });
}

if (process.env.FAKE_OLLAMA_OPTS && process.send) await runChild();
