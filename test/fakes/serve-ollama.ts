/**
 * Runs the fake Ollama on a fixed port for trying the console or the service without a GPU:
 *   npx tsx test/fakes/serve-ollama.ts [port]     (default 11434)
 */
import { FakeOllama } from './ollama.js';

const fake = new FakeOllama({ tokenDelayMs: 20 });
fake.port = Number(process.argv[2] ?? 11434);
await fake.up();
process.stdout.write(`fake Ollama listening on ${fake.url}\n`);
process.on('SIGINT', () => void fake.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
