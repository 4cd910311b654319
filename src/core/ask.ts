/**
 * Answering a question: persist it, check the quota, wait for admission, retrieve, build the
 * prompt, stream from the backend into the sink, persist the answer and meter the tokens.
 */
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Tenant } from '../tenancy/registry.js';
import type { ChannelSettings } from '../channels/settings.js';
import type { ConversationMemory, StoredMessage } from '../memory/store.js';
import type { PersonaStore, Persona } from '../personas/store.js';
import type { UsageMeter } from '../usage/meter.js';
import { BusyError, type Admission } from '../limits/admission.js';
import { DEFAULT_PERSONA } from '../personas/builtins.js';
import { citationLine } from '../retrieval/prompt-block.js';
import { LlmError, type InboundMessage, type KnowledgeBase, type LlmBackend, type Passage, type ReplySink } from './ports.js';
import { buildPrompt } from './prompt.js';
import { ThrottledReply } from './reply-stream.js';
import { replies } from './replies.js';
import type { HandleOutcome } from './engine.js';

export interface AskOptions {
  chatModel: string;
  /** Earlier messages in the window when the channel sets none. */
  memoryMessages: number;
  /** Tokens of history the prompt may carry. */
  memoryTokenBudget: number;
  logMessageText: boolean;
}

/** Timings of one answer, for the benchmark and tracing. */
export interface AnswerTimings {
  tenantId: string;
  totalMs: number;
  waitMs: number;
  backendMs: number;
}

export interface AskDeps {
  memory: ConversationMemory;
  personas: PersonaStore;
  usage: UsageMeter;
  admission: Admission;
  backend: LlmBackend;
  knowledge?: KnowledgeBase;
  metrics: Metrics;
  logger: Logger;
  options: AskOptions;
  onAnswered?: (t: AnswerTimings) => void;
}

export class AskPipeline {
  constructor(private readonly deps: AskDeps) {}

  async answer(tenant: Tenant, msg: InboundMessage, question: string, settings: ChannelSettings, sink: ReplySink): Promise<HandleOutcome> {
    const { memory, usage, admission, metrics, logger, options } = this.deps;
    const started = performance.now();
    const key = { channelId: msg.channelId, threadId: msg.threadId };

    // Earlier thread messages the bot never saw come in once, on its first mention there.
    if (msg.priorMessages?.length && !(await memory.hasAny(tenant, key))) {
      await memory.appendMany(tenant, key, msg.priorMessages.map((m) => ({ role: m.role, userId: m.userId, content: m.text })));
    }
    // Independent round trips run together: each sequential one adds to every answer's latency.
    // The window is read alongside the question's insert, so it may or may not include it: it
    // asks for one message more and keeps only what is older than the question.
    const maxMessages = settings.memoryMessages ?? options.memoryMessages;
    const [questionId, today, persona, recent, hasDocuments] = await Promise.all([
      memory.append(tenant, key, { role: 'user', userId: msg.caller.userId, content: question }),
      usage.today(tenant),
      this.persona(tenant, settings),
      maxMessages > 0 ? memory.window(tenant, key, { maxMessages: maxMessages + 1, tokenBudget: options.memoryTokenBudget }) : [],
      settings.retrieval && this.deps.knowledge ? this.hasDocuments(tenant) : false,
    ]);
    const history = maxMessages > 0 ? recent.filter((m) => m.id < questionId).slice(-maxMessages) : [];
    logger.info(
      { tenant: tenant.tenantId, platform: msg.platform, channel: msg.channelId, ...(options.logMessageText ? { question } : {}) },
      'question received',
    );

    if (today.tokens >= tenant.limits.tokensPerDay) {
      await usage.record(tenant, { rejected: 1 });
      metrics.rejections.inc({ reason: 'quota' });
      await sink.finish(replies.quota(tenant.limits.tokensPerDay), { kind: 'notice' });
      return 'refused';
    }

    await sink.start();
    const stream = new ThrottledReply(sink, logger);
    let waitMs = 0;
    try {
      const { result, passages } = await admission.run(
        tenant,
        tenant.limits,
        () => this.generate(tenant, question, persona, history, hasDocuments, stream),
        (waited) => {
          waitMs = waited;
        },
      );
      const cite = citationLine(passages);
      const text = (result.text.trim() || replies.emptyAnswer) + (cite ? `\n\n${cite}` : '');
      await stream.finish(text, { kind: 'answer' });
      await Promise.all([
        memory.append(tenant, key, { role: 'assistant', userId: null, content: result.text, tokens: result.completionTokens }),
        usage.record(tenant, { requests: 1, promptTokens: result.promptTokens, completionTokens: result.completionTokens }),
      ]);
      metrics.llmTokens.inc({ tenant: tenant.tenantId, kind: 'prompt' }, result.promptTokens);
      metrics.llmTokens.inc({ tenant: tenant.tenantId, kind: 'completion' }, result.completionTokens);
      this.deps.onAnswered?.({ tenantId: tenant.tenantId, totalMs: performance.now() - started, waitMs, backendMs: result.backendMs });
      return 'answered';
    } catch (err) {
      return this.fail(tenant, err, stream);
    }
  }

  /** Runs holding a backend slot: retrieval (it embeds on the backend) and the chat call. */
  private async generate(tenant: Tenant, question: string, persona: Persona, history: StoredMessage[], withKnowledge: boolean, stream: ThrottledReply) {
    const { backend, options } = this.deps;
    const passages = withKnowledge ? await this.retrieve(tenant, question) : [];
    const messages = buildPrompt({ systemPrompt: persona.systemPrompt, passages, history, question });
    let text = '';
    const result = await backend.chat(
      {
        model: persona.model ?? options.chatModel,
        messages,
        ...(persona.temperature != null ? { temperature: persona.temperature } : {}),
        ...(persona.maxTokens != null ? { maxTokens: persona.maxTokens } : {}),
      },
      (delta) => {
        text += delta;
        stream.push(text);
      },
    );
    return { result, passages };
  }

  /** Channel persona, else the tenant default, else the built-in default. */
  private async persona(tenant: Tenant, settings: ChannelSettings): Promise<Persona> {
    const { personas } = this.deps;
    for (const name of [settings.persona, tenant.defaultPersona, DEFAULT_PERSONA]) {
      if (!name) continue;
      const p = await personas.get(tenant, name);
      if (p) return p;
    }
    throw new Error(`built-in persona ${DEFAULT_PERSONA} is missing: seedBuiltins() was not run`);
  }

  /** Checked before waiting for a slot; a failing check only means no references. */
  private async hasDocuments(tenant: Tenant): Promise<boolean> {
    try {
      return (await this.deps.knowledge?.hasDocuments(tenant)) ?? false;
    } catch (err) {
      this.deps.logger.warn({ err, tenant: tenant.tenantId }, 'knowledge check failed; answering without references');
      return false;
    }
  }

  /** Retrieval failing degrades to an answer without references, never to no answer. */
  private async retrieve(tenant: Tenant, question: string): Promise<Passage[]> {
    if (!this.deps.knowledge) return [];
    try {
      return await this.deps.knowledge.retrieve(tenant, question);
    } catch (err) {
      this.deps.metrics.errors.inc({ component: 'retrieval', kind: err instanceof LlmError ? err.kind : 'failed' });
      this.deps.logger.warn({ err: String(err), tenant: tenant.tenantId }, 'retrieval failed; answering without references');
      return [];
    }
  }

  private async fail(tenant: Tenant, err: unknown, stream: ThrottledReply): Promise<HandleOutcome> {
    const { metrics, logger, usage } = this.deps;
    if (err instanceof BusyError) {
      metrics.rejections.inc({ reason: err.reason });
      await usage.record(tenant, { rejected: 1 });
      await stream.finish(replies.busy(err.reason), { kind: 'notice' });
      return 'refused';
    }
    if (err instanceof LlmError) {
      logger.warn({ tenant: tenant.tenantId, kind: err.kind, err: err.message }, 'backend error');
      await stream.finish(replies.llm(err.kind), { kind: 'error' });
      return 'failed';
    }
    logger.error({ err, tenant: tenant.tenantId }, 'answer failed');
    metrics.errors.inc({ component: 'engine', kind: 'internal' });
    await stream.finish(replies.internal, { kind: 'error' });
    return 'failed';
  }
}
