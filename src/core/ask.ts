/**
 * Answering a question: persist it, check the quota, wait for admission, retrieve, build the
 * prompt, stream from the backend into the reply, persist the answer and meter the tokens.
 */
import type { Logger } from '../logger.js';
import type { MetricRegistry } from '../metrics.js';
import { citationLine } from './prompt-block.js';
import { buildPrompt } from './prompt.js';
import type { ReplyStream } from './reply/stream.js';
import type { Tenant } from '../ports/tenancy.js';
import type { ChannelSettings, ConversationStore, Persona, PersonaCatalog, StoredMessage, UsageLedger } from '../ports/stores.js';
import { BusyError, type Admission } from '../ports/admission.js';
import { LlmError, type LlmBackend } from '../ports/llm.js';
import type { InboundMessage } from '../ports/messages.js';
import type { AskedIn, KnowledgeBase, Passage } from '../ports/knowledge.js';
import type { AnswerProgress, HandleOutcome } from '../ports/engine.js';
import { interruptionOf } from './interruption.js';
import { persistently } from './persistently.js';
import { asBotError, BotError, ErrorCode, vocabularies, type Vocabulary } from '../ports/errors.js';
import { outcome } from './outcome.js';
import { AnswerMetrics } from './answer-metrics.js';

export interface AskOptions {
  chatModel: string;
  /** Persona used when neither the channel nor the tenant names one (a built-in). */
  defaultPersona: string;
  /** Earlier messages in the window when the channel sets none. */
  memoryMessages: number;
  /** Tokens of history the prompt may carry. */
  memoryTokenBudget: number;
}

/** Timings of one answer, for the benchmark and tracing. */
export interface AnswerTimings {
  tenantId: string;
  totalMs: number;
  waitMs: number;
  backendMs: number;
}

export interface AskDeps {
  memory: ConversationStore;
  personas: PersonaCatalog;
  usage: UsageLedger;
  admission: Admission;
  backend: LlmBackend;
  knowledge?: KnowledgeBase;
  /** The pipeline registers its own metrics here (tokens, quota refusals, retrieval failures). */
  metrics: MetricRegistry;
  logger: Logger;
  options: AskOptions;
  onAnswered?: (t: AnswerTimings) => void;
}

export class AskPipeline {
  private readonly metrics: AnswerMetrics;

  constructor(private readonly deps: AskDeps) {
    this.metrics = new AnswerMetrics(deps.metrics);
  }

  async answer(
    tenant: Tenant,
    msg: InboundMessage,
    question: string,
    settings: ChannelSettings,
    reply: ReplyStream,
    progress: AnswerProgress = {},
  ): Promise<HandleOutcome> {
    const { memory, usage, admission, options } = this.deps;
    const { metrics } = this;
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
    // A resumed job stored its question on an earlier attempt: it is not stored twice.
    const storeQuestion = async () => {
      if (progress.questionId !== undefined) return progress.questionId;
      const id = await memory.append(tenant, key, { role: 'user', userId: msg.caller.userId, content: question });
      progress.questionStored?.(id);
      return id;
    };
    const [questionId, today, persona, recent, hasDocuments] = await Promise.all([
      storeQuestion(),
      usage.today(tenant),
      this.persona(tenant, settings),
      maxMessages > 0 ? memory.window(tenant, key, { maxMessages: maxMessages + 1, tokenBudget: options.memoryTokenBudget }) : [],
      settings.retrieval && this.deps.knowledge ? this.hasDocuments(tenant, askedIn(msg)) : false,
    ]);
    const history = maxMessages > 0 ? recent.filter((m) => m.id < questionId).slice(-maxMessages) : [];

    if (today.tokens >= tenant.limits.tokensPerDay) {
      await usage.record(tenant, { rejected: 1 });
      metrics.quotaRefusals.inc({});
      const limit = tenant.limits.tokensPerDay.toLocaleString('en-US');
      const quota = new BotError(
        ErrorCode.QuotaExhausted,
        (v) => `This ${v.workspace} has used its ${limit} tokens for today. The allowance resets at midnight UTC.`,
      );
      await reply.finish(quota.userText(vocabularies[msg.platform]), { kind: 'notice' });
      return outcome('refused', true, quota.code);
    }

    await reply.start();
    let waitMs = 0;
    const generated = { tokens: 0 };
    progress.waiting?.();
    try {
      const { result, passages } = await admission.run(
        tenant,
        tenant.limits,
        () => this.generate(tenant, question, persona, history, hasDocuments && askedIn(msg), reply, msg.signal, generated, progress),
        {
          onStart: (waited) => {
            waitMs = waited;
            progress.answering?.();
          },
          ...(msg.signal ? { signal: msg.signal } : {}),
        },
      );
      const cite = citationLine(passages);
      const text = (result.text.trim() || EMPTY_ANSWER) + (cite ? `\n\n${cite}` : '');
      await reply.finish(text, { kind: 'answer' });
      // The answer is out: its rows are kept through a database blip rather than lost.
      await Promise.all([
        persistently(() => memory.append(tenant, key, { role: 'assistant', userId: null, content: result.text, tokens: result.completionTokens }), {
          logger: this.deps.logger,
          what: 'answer memory',
        }),
        persistently(() => usage.record(tenant, { requests: 1, promptTokens: result.promptTokens, completionTokens: result.completionTokens }), {
          logger: this.deps.logger,
          what: 'usage',
        }),
      ]);
      metrics.tokens.inc({ tenant: tenant.tenantId, kind: 'prompt' }, result.promptTokens);
      metrics.tokens.inc({ tenant: tenant.tenantId, kind: 'completion' }, result.completionTokens);
      this.deps.onAnswered?.({ tenantId: tenant.tenantId, totalMs: performance.now() - started, waitMs, backendMs: result.backendMs });
      return {
        ...outcome('answered', true),
        answer: {
          persona: persona.name,
          passages: passages.length,
          promptTokens: result.promptTokens,
          completionTokens: result.completionTokens,
          waitMs,
        },
      };
    } catch (err) {
      const interrupted = interruptionOf(msg, err);
      if (interrupted) {
        // Left as it is for whoever resumes the job; the runner keeps the tokens generated so far.
        reply.abandon();
        throw interrupted;
      }
      // An answer stopped part-way (the console's Ctrl-C) still cost what was generated.
      if (err instanceof LlmError && err.kind === 'aborted' && generated.tokens > 0) {
        await usage.record(tenant, { requests: 1, completionTokens: generated.tokens });
        metrics.tokens.inc({ tenant: tenant.tenantId, kind: 'completion' }, generated.tokens);
      }
      return this.fail(tenant, err, reply, vocabularies[msg.platform]);
    }
  }

  /** Runs holding a backend slot: retrieval (it embeds on the backend) and the chat call. */
  private async generate(
    tenant: Tenant,
    question: string,
    persona: Persona,
    history: StoredMessage[],
    /** Where the question was asked, when its documents are to be searched. */
    withKnowledge: AskedIn | false,
    reply: ReplyStream,
    signal: AbortSignal | undefined,
    generated: { tokens: number },
    progress: AnswerProgress,
  ) {
    const { backend, options } = this.deps;
    const passages = withKnowledge ? await this.retrieve(tenant, question, withKnowledge) : [];
    const messages = buildPrompt({ systemPrompt: persona.systemPrompt, passages, history, question });
    let text = '';
    const result = await backend.chat(
      {
        model: persona.model ?? options.chatModel,
        messages,
        ...(persona.temperature != null ? { temperature: persona.temperature } : {}),
        ...(persona.maxTokens != null ? { maxTokens: persona.maxTokens } : {}),
        ...(signal ? { signal } : {}),
      },
      (delta) => {
        text += delta;
        // Ollama streams about one token per chunk: the count is exact enough to meter an answer cut short.
        generated.tokens += 1;
        progress.tokens?.(generated.tokens);
        reply.update(text);
      },
    );
    return { result, passages };
  }

  /** Channel persona, else the tenant default, else the built-in default. */
  private async persona(tenant: Tenant, settings: ChannelSettings): Promise<Persona> {
    const { personas } = this.deps;
    for (const name of [settings.persona, tenant.defaultPersona, this.deps.options.defaultPersona]) {
      if (!name) continue;
      const p = await personas.get(tenant, name);
      if (p) return p;
    }
    throw new Error(`built-in persona ${this.deps.options.defaultPersona} is missing: seedBuiltins() was not run`);
  }

  /** Checked before waiting for a slot; a failing check only means no references. */
  private async hasDocuments(tenant: Tenant, where: AskedIn): Promise<boolean> {
    try {
      return (await this.deps.knowledge?.hasDocuments(tenant, where)) ?? false;
    } catch (err) {
      this.deps.logger.warn({ err, tenant: tenant.tenantId }, 'knowledge check failed; answering without references');
      return false;
    }
  }

  /** Retrieval failing degrades to an answer without references, never to no answer. */
  private async retrieve(tenant: Tenant, question: string, where: AskedIn): Promise<Passage[]> {
    if (!this.deps.knowledge) return [];
    try {
      return await this.deps.knowledge.retrieve(tenant, question, where);
    } catch (err) {
      this.metrics.retrievalErrors.inc({ kind: err instanceof LlmError ? err.kind : 'failed' });
      this.deps.logger.warn({ err: String(err), tenant: tenant.tenantId }, 'retrieval failed; answering without references');
      return [];
    }
  }

  private async fail(tenant: Tenant, err: unknown, reply: ReplyStream, words: Vocabulary): Promise<HandleOutcome> {
    const { logger, usage } = this.deps;
    const error = asBotError(err);
    if (err instanceof BusyError) {
      await usage.record(tenant, { rejected: 1 });
    } else if (err instanceof LlmError) {
      logger.warn({ tenantId: tenant.tenantId, code: error.code, err: err.message }, 'backend error');
    } else if (!error.expected) {
      // Counted by the engine (bot_errors_total) from the outcome.
      logger.error({ err, tenantId: tenant.tenantId }, 'answer failed');
    }
    await reply.finish(error.userText(words), { kind: error.expected ? 'notice' : 'error' });
    return outcome(error.expected ? 'refused' : 'failed', true, error.code);
  }
}

/** Where a message was asked, for channel-scoped documents (a thread's channelId is its channel). */
const askedIn = (msg: InboundMessage): AskedIn => ({ channelId: msg.channelId, direct: msg.isDirect });

/** Shown when the model returns nothing at all. */
const EMPTY_ANSWER = '(The model returned an empty answer.)';
