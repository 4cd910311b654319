/**
 * Builds a real Core (engine, stores, limiter, Ollama client) on a test database against the
 * fake Ollama, plus a recording ReplySink and a helper that sends console-style messages.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { createCore, type Core, type CreateCoreOptions } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import type { Database } from '../../src/db/client.js';
import type { NoticeOptions, ReplyLimits, ReplyPart, ReplySink } from '../../src/ports/reply.js';
import type { FinishOptions } from '../../src/core/reply/stream.js';
import type { InboundMessage } from '../../src/ports/messages.js';
import type { HandleOutcome } from '../../src/ports/engine.js';

/**
 * A ReplySink that keeps what the engine sent: the working indicator, every progress text, and
 * the final reply (its closed parts joined, or the notice) with how it ended. Its limit is large
 * enough that an engine test's reply is one message.
 */
export class RecordingSink implements ReplySink {
  readonly limits: ReplyLimits;
  started = 0;
  updates: string[] = [];
  final: string | null = null;
  finishOptions: FinishOptions | undefined;
  finishCount = 0;
  private readonly closed: string[] = [];

  constructor(minUpdateIntervalMs = 10, maxChars = 1_000_000) {
    this.limits = { maxChars, minUpdateIntervalMs };
  }
  async working() {
    this.started++;
  }
  async open(index: number, text: string): Promise<ReplyPart> {
    this.updates.push(text);
    return {
      update: async (t) => void this.updates.push(t),
      close: async (t, kind) => {
        this.closed[index] = t;
        this.final = this.closed.join('\n');
        // One finished reply, however many messages it took.
        if (index === 0) this.finishCount++;
        this.finishOptions = { kind };
      },
      remove: async () => {},
    };
  }
  async notice(text: string, options: NoticeOptions) {
    this.final = text;
    this.finishOptions = { kind: options.kind, ephemeral: options.private };
    this.finishCount++;
  }
}

export interface SendOptions {
  workspace?: string;
  channel?: string;
  thread?: string | null;
  user?: string;
  admin?: boolean;
  platform?: InboundMessage['platform'];
  addressed?: boolean;
  kind?: InboundMessage['kind'];
  eventId?: string;
  isDirect?: boolean;
}

export interface TestCore {
  core: Core;
  send(text: string, opts?: SendOptions): Promise<{ outcome: HandleOutcome['status']; result: HandleOutcome; sink: RecordingSink }>;
}

export async function startTestCore(
  database: Database,
  ollamaUrl: string,
  env: Record<string, string> = {},
  opts: Omit<CreateCoreOptions, 'database'> = {},
): Promise<TestCore> {
  const config = loadConfig({ LOG_LEVEL: 'silent', OLLAMA_HOST: ollamaUrl, OLLAMA_STALL_MS: '2000', OLLAMA_TIMEOUT_MS: '10000', ...env });
  const core = await createCore(config, { logger: createLogger('silent'), database, ...opts });
  return {
    core,
    async send(text, o = {}) {
      const sink = new RecordingSink();
      const result = await core.engine.handle(
        {
          platform: o.platform ?? 'console',
          tenantExternalId: o.workspace ?? 'acme',
          eventId: o.eventId ?? randomUUID(),
          channelId: o.channel ?? 'general',
          threadId: o.thread ?? null,
          caller: { userId: o.user ?? 'alice', isAdmin: async () => o.admin ?? false },
          text,
          kind: o.kind ?? 'message',
          addressed: o.addressed ?? true,
          isDirect: o.isDirect ?? false,
        },
        sink,
      );
      return { outcome: result.status, result, sink };
    },
  };
}
