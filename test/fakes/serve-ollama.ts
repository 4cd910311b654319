/**
 * The test suite's fake Ollama on a fixed port, for trying the console or the service without
 * a GPU: `npm run fake-ollama` (port 11434) or `npm run fake-ollama -- 11500`. It streams
 * deterministic answers and embeddings over the real Ollama API. Ctrl-C or SIGTERM stops it and
 * frees the port; it also stops when the process that started it goes away, so it never
 * lingers holding the port.
 */
import { FakeOllama } from './ollama.js';

const arg = process.argv[2] ?? '11434';
const port = Number(arg);
if (!/^\d+$/.test(arg) || port < 1 || port > 65535) {
  process.stderr.write(`fake Ollama: "${arg}" is not a port; usage: npm run fake-ollama -- [port]\n`);
  process.exit(2);
}

const fake = new FakeOllama({ tokenDelayMs: 20 });
fake.port = port;
try {
  await fake.up();
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'EADDRINUSE' ? 'is in use (a real Ollama, or another fake?)' : `cannot be used (${code ?? String(err)})`;
  process.stderr.write(`fake Ollama: port ${port} ${why}; pick another: npm run fake-ollama -- 11500\n`);
  process.exit(1);
}
process.stdout.write(`fake Ollama listening on ${fake.url} (Ctrl-C stops it)\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void fake.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('SIGHUP', stop);
// npm does not pass every signal on to its script: when the parent is gone, stop too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 500).unref();
