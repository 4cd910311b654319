/**
 * Instruments for the engine benchmark: a backend decorator that records when each chat call
 * runs, a ReplySink that records when the engine posts, and a sender that times one message
 * through Engine.handle. Nothing here changes what the engine does; it only watches.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AnswerTimings } from '../../src/core/ask.js';
import type { Engine } from '../../src/core/engine.js';
import type { HandleOutcome } from '../../src/ports/engine.js';
import type { ChatRequest, ChatResult, LlmBackend } from '../../src/ports/llm.js';
import type { ReplyLimits, ReplyPart, ReplySink } from '../../src/ports/reply.js';
import type { InboundMessage } from '../../src/ports/messages.js';

/** Everything measured about one message; times are performance.now() milliseconds. */
export interface MessageRecord {
  id: number;
  tenant: string;
  phase: string;
  sentAt: number;
  doneAt?: number;
  outcome?: HandleOutcome['status'];
  /** sink.working(): the engine is past dedupe, tenant, settings, persisting and the quota check. */
  sinkStartAt?: number;
  /** Inside the backend decorator: the chat call itself. */
  backendStartAt?: number;
  backendEndAt?: number;
  /** The backend's own counts for the call. */
  promptTokens?: number;
  completionTokens?: number;
  finishAt?: number;
  updates: number;
  timings?: AnswerTimings;
}

/** The marker put in every question so a backend call can be traced to its message. */
const MARK = /\bbench#(\d+)\b/;

/**
 * Wraps the real OllamaBackend. Chat calls are matched to messages through the marker in the
 * question (Bottleneck runs tasks outside the caller's async context, so AsyncLocalStorage
 * cannot be trusted in here).
 */
export class RecordingBackend implements LlmBackend {
  /** (time, number of chat calls running) after each change. */
  readonly activeChanges: { t: number; value: number }[] = [];
  private active = 0;

  constructor(
    private readonly inner: LlmBackend,
    private readonly records: Map<number, MessageRecord>,
  ) {}

  async chat(req: ChatRequest, onText: (delta: string) => void): Promise<ChatResult> {
    const last = [...req.messages].reverse().find((m) => m.role === 'user');
    const rec = this.records.get(Number(MARK.exec(last?.content ?? '')?.[1]));
    this.step(1);
    if (rec) rec.backendStartAt = performance.now();
    try {
      const result = await this.inner.chat(req, onText);
      if (rec) Object.assign(rec, { promptTokens: result.promptTokens, completionTokens: result.completionTokens });
      return result;
    } finally {
      if (rec) rec.backendEndAt = performance.now();
      this.step(-1);
    }
  }

  embed(model: string, inputs: string[], signal?: AbortSignal): Promise<number[][]> {
    return this.inner.embed(model, inputs, signal);
  }
  health() {
    return this.inner.health();
  }
  hasModel(model: string) {
    return this.inner.hasModel(model);
  }
  ensureModels(models: string[], onProgress: (line: string) => void): Promise<void> {
    return this.inner.ensureModels(models, onProgress);
  }

  private step(delta: number): void {
    this.active += delta;
    this.activeChanges.push({ t: performance.now(), value: this.active });
  }
}

/** A console-like sink: no I/O, just timestamps, with a realistic update cadence. */
class RecordingSink implements ReplySink {
  readonly limits: ReplyLimits;
  constructor(
    private readonly rec: MessageRecord,
    minUpdateIntervalMs: number,
  ) {
    this.limits = { maxChars: Number.POSITIVE_INFINITY, minUpdateIntervalMs };
  }
  async working(): Promise<void> {
    this.rec.sinkStartAt = performance.now();
  }
  async open(): Promise<ReplyPart> {
    this.rec.updates += 1;
    return {
      update: async () => void (this.rec.updates += 1),
      close: async () => void (this.rec.finishAt = performance.now()),
      remove: async () => {},
    };
  }
  async notice(): Promise<void> {
    this.rec.finishAt = performance.now();
  }
}

/**
 * Sends messages through the engine and keeps one record per message. onAnswered is called
 * inside AskPipeline.answer after its awaits, which resume in the caller's async context, so
 * AsyncLocalStorage ties each timing to the handle() call that caused it.
 */
export class MessageSender {
  readonly records = new Map<number, MessageRecord>();
  /** onAnswered calls that could not be tied to a message (should stay 0). */
  unmatchedTimings = 0;
  private readonly context = new AsyncLocalStorage<MessageRecord>();
  private seq = 0;
  private engine?: Engine;

  constructor(private readonly opts: { minUpdateIntervalMs: number; eventIds: boolean }) {}

  attach(engine: Engine): void {
    this.engine = engine;
  }

  readonly onAnswered = (t: AnswerTimings): void => {
    const rec = this.context.getStore();
    if (rec) rec.timings = t;
    else this.unmatchedTimings += 1;
  };

  /** One question from `tenant` (a console workspace name) in its own channel. */
  async send(tenant: string, phase: string): Promise<MessageRecord> {
    if (!this.engine) throw new Error('MessageSender.attach(engine) first');
    const id = ++this.seq;
    const rec: MessageRecord = { id, tenant, phase, sentAt: performance.now(), updates: 0 };
    this.records.set(id, rec);
    const msg: InboundMessage = {
      platform: 'console',
      tenantExternalId: tenant,
      // Real platforms always carry a delivery id, so the dedupe insert is part of the cost.
      ...(this.opts.eventIds ? { eventId: `bench-${process.pid}-${id}` } : {}),
      channelId: 'general',
      threadId: null,
      caller: { userId: `user-${id % 7}`, isAdmin: async () => false },
      text: `bench#${id} how do I reset the staging database before the release?`,
      kind: 'message',
      addressed: true,
      isDirect: false,
    };
    const engine = this.engine;
    rec.outcome = (await this.context.run(rec, () => engine.handle(msg, new RecordingSink(rec, this.opts.minUpdateIntervalMs)))).status;
    rec.doneAt = performance.now();
    return rec;
  }

  phase(name: string): MessageRecord[] {
    return [...this.records.values()].filter((r) => r.phase === name);
  }
}

/**
 * Orchestration overhead of one answered message: all of handle() that was neither waiting for
 * a slot nor inside the backend call (DB writes, admission bookkeeping, prompt, streaming).
 */
export function overheadMs(r: MessageRecord): number | undefined {
  if (r.doneAt === undefined || !r.timings) return undefined;
  return r.doneAt - r.sentAt - r.timings.waitMs - r.timings.backendMs;
}
