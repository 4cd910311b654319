/** The LlmBackend contract (test/contracts/llm-backend.ts) for the single server and the pool. */
import { OllamaBackend } from '../src/llm/ollama-backend.js';
import { BackendPool } from '../src/llm/pool/pool.js';
import { startFakeOllama } from './fakes/ollama.js';
import { llmBackendContract } from './contracts/llm-backend.js';

llmBackendContract({
  name: 'OllamaBackend (one server)',
  async create(models) {
    const fake = await startFakeOllama({ models });
    return { backend: new OllamaBackend({ host: fake.url, stallMs: 2_000, timeoutMs: 10_000 }), servers: [fake], close: () => fake.close() };
  },
});

for (const n of [1, 2]) {
  llmBackendContract({
    name: `BackendPool of ${n}`,
    async create(models) {
      const fakes = await Promise.all(Array.from({ length: n }, () => startFakeOllama({ models })));
      const pool = new BackendPool({ backends: fakes.map((f) => ({ host: f.url, parallel: 2 })), stallMs: 2_000, timeoutMs: 10_000, waitMs: 5_000 });
      return {
        backend: pool,
        servers: fakes,
        async close() {
          pool.close();
          await Promise.all(fakes.map((f) => f.close()));
        },
      };
    },
  });
}
