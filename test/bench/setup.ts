/**
 * Builds what every engine-bench phase runs against: a fake Ollama with N slots and a per-token
 * delay, a fresh database (real Postgres from TEST_DATABASE_URL / DATABASE_URL, else PGlite),
 * and a Core from createCore, exactly as the service builds it (the same Ollama client, wrapped
 * to record each call), with tenants on a roomy plan.
 */
import { createCore, type Core } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startFakeOllamaProcess, type FakeOllamaProcess } from './fake-ollama-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { MessageSender, RecordingBackend } from './harness.js';

export interface BenchSetupOptions {
  tenants: number;
  slots: number;
  tokenDelayMs: number;
  tokensPerAnswer: number;
  maxConcurrentPerTenant: number;
  minUpdateIntervalMs: number;
  /** The tenants' plan (its weight and caps); @defaultValue 'team' */
  plan?: string;
  /** Settings on top of the bench's own. */
  env?: Record<string, string>;
}

export interface BenchRig {
  core: Core;
  fake: FakeOllamaProcess;
  db: TestDatabase;
  sender: MessageSender;
  backend: RecordingBackend;
  tenantNames: string[];
  close(): Promise<void>;
}

/** A fixed answer of exactly `n` word tokens (the fake streams one word per token). */
export function answerOf(n: number): string {
  const words = ['Reset', 'staging', 'with', 'the', 'runbook', 'script', 'then', 'check', 'the', 'migrations'];
  return Array.from({ length: n }, (_, i) => words[i % words.length]).join(' ') + '.';
}

export async function setUpBench(opts: BenchSetupOptions): Promise<BenchRig> {
  // In its own process, like a real Ollama, so its work is not counted as engine overhead.
  const fake = await startFakeOllamaProcess({ tokenDelayMs: opts.tokenDelayMs, slots: opts.slots, answer: answerOf(opts.tokensPerAnswer) });
  // The service's own pool size (src/db/client.ts), not the tests' smaller one.
  const db = await createTestDatabase({ maxConnections: 10 });
  const sender = new MessageSender({ minUpdateIntervalMs: opts.minUpdateIntervalMs, eventIds: true });
  let core: Core | undefined;
  try {
    const config = loadConfig({
      OLLAMA_HOST: fake.url,
      OLLAMA_PARALLEL: String(opts.slots),
      // Nobody is refused for waiting: the bench measures waits, it does not want "busy".
      QUEUE_MAX: '100000',
      QUEUE_WAIT_MS: '3600000',
      LOG_LEVEL: 'silent',
      DATA_DIR: 'memory://',
      ...opts.env,
    });
    let backend: RecordingBackend | undefined;
    core = await createCore(config, {
      database: db.database,
      decorateBackend: (ollama) => (backend = new RecordingBackend(ollama, sender.records)),
      onAnswered: sender.onAnswered,
    });
    sender.attach(core.engine);

    const tenantNames = Array.from({ length: opts.tenants }, (_, i) => `bench-${String(i).padStart(4, '0')}`);
    const overrides = {
      maxConcurrent: opts.maxConcurrentPerTenant,
      requestsPerMinute: 1_000_000,
      tokensPerDay: 1_000_000_000_000,
      maxQueued: 100_000,
    };
    for (const name of tenantNames) {
      await core.tenants.install('console', name, { name });
      await core.tenants.setPlan('console', name, opts.plan ?? 'team', overrides);
    }
    const built = core;
    return {
      core: built,
      fake,
      db,
      sender,
      backend: backend!,
      tenantNames,
      async close() {
        await built.close();
        await fake.close();
        await db.drop();
      },
    };
  } catch (err) {
    await core?.close().catch(() => {});
    await fake.close();
    await db.drop();
    throw err;
  }
}
