/**
 * Answering a question: persist it, reserve its tokens against the quota, wait for admission
 * (token-fair, telling the user why it waits), retrieve, build the prompt, stream from the
 * backend into the reply, persist the answer, meter the tokens and settle the reservation.
 */
import type { Logger } from '../logger.js';
import type { MetricRegistry } from '../metrics.js';
import { citationLine } from './prompt-block.js';
import { buildPrompt } from './prompt.js';
import type { ReplyStream } from './reply/stream.js';
import type { Tenant } from '../ports/tenancy.js';
import { personaLimits, type AnswerBook, type ChannelSettings, type ConversationKey, type ConversationStore, type Persona, type PersonaCatalog, type StoredMessage, type UsageLedger } from '../ports/stores.js';
import { BusyError, type Admission, type AdmittedSlot } from '../ports/admission.js';
import { LlmError, type ChatMessage, type LlmBackend } from '../ports/llm.js';
import type { InboundMessage } from '../ports/messages.js';
import type { AskedIn, KnowledgeBase } from '../ports/knowledge.js';
import type { AnswerProgress, HandleOutcome } from '../ports/engine.js';
import { interruptionOf } from './interruption.js';
import { AnswerRecords } from './answer-records.js';
import { AnswerContext, askedIn } from './answer-context.js';
import { roughPromptTokens, WorkEstimator } from './work-estimate.js';
import { reserveQuota } from './quota-gate.js';
import { partialEnding } from './partial-answer.js';
import { STATUS, waitStatus } from './status-text.js';
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
  /** Longest wait for other answers' quota holds to end before "quota spent" (default 30 s). */
  quotaWaitMs?: number;
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
  /** Where answers are recorded for their feedback buttons (optional: the console has none). */
  answers?: AnswerBook;
  /** The pipeline registers its own metrics here (tokens, quota refusals, retrieval failures). */
  metrics: MetricRegistry;
  logger: Logger;
  options: AskOptions;
  onAnswered?: (t: AnswerTimings) => void;
}

/** What the backend produced so far (a stopped or interrupted answer keeps and meters it). */
interface Generated {
  text: string;
  tokens: number;
}


export class AskPipeline {
  private readonly metrics: AnswerMetrics;
  private readonly records: AnswerRecords;
  private readonly context: AnswerContext;
  private readonly estimator = new WorkEstimator();

  constructor(private readonly deps: AskDeps) {
    this.metrics = new AnswerMetrics(deps.metrics);
    this.records = new AnswerRecords({ memory: deps.memory, usage: deps.usage, answers: deps.answers, metrics: this.metrics, logger: deps.logger });
    this.context = new AnswerContext({ ...deps, metrics: this.metrics, defaultPersona: deps.options.defaultPersona });
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
    const { metrics, context } = this;
    const words = vocabularies[msg.platform];
    const started = performance.now();
    const key = { channelId: msg.channelId, threadId: msg.threadId };

    await context.bringInThread(tenant, msg, key);
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
    // Held against the daily quota until the answer is metered (concurrent questions cannot
    // overshoot it), taken beside the reads below so it adds no round trip of its own.
    const hold = this.estimator.holdBeforeReading(tenant.tenantId, {
      questionChars: question.length,
      historyTokens: maxMessages > 0 ? options.memoryTokenBudget : 0,
      withDocuments: settings.retrieval && !!this.deps.knowledge,
      systemPromptChars: personaLimits.systemPrompt.maxLength,
    });
    const holding = reserveQuota(usage, tenant, hold, tenant.limits.tokensPerDay, {
      maxWaitMs: options.quotaWaitMs ?? 30_000,
      ...(msg.signal ? { signal: msg.signal } : {}),
      onHeld: () => void reply.status(STATUS.waiting()),
    });
    const [reservation, questionId, persona, recent, hasDocuments] = await Promise.all([
      holding,
      storeQuestion(),
      context.persona(tenant, settings),
      maxMessages > 0 ? memory.window(tenant, key, { maxMessages: maxMessages + 1, tokenBudget: options.memoryTokenBudget }) : [],
      settings.retrieval && this.deps.knowledge ? context.hasDocuments(tenant, askedIn(msg)) : false,
    ]).catch(async (err: unknown) => {
      // A hold taken for a question that fails here is given back at once.
      const held = await holding.catch(() => 'spent' as const);
      if (held !== 'spent') await usage.record(tenant, { release: held }).catch(() => undefined);
      throw err;
    });
    const history = maxMessages > 0 ? recent.filter((m) => m.id < questionId).slice(-maxMessages) : [];
    // The conversation's first question names its thread, where threads have names.
    if (maxMessages > 0 && history.length === 0) void reply.title(question);

    if (reservation === 'spent') {
      await usage.record(tenant, { rejected: 1 });
      metrics.quotaRefusals.inc({});
      const limit = tenant.limits.tokensPerDay.toLocaleString('en-US');
      const quota = new BotError(
        ErrorCode.QuotaExhausted,
        (v) => `This ${v.workspace} has used its ${limit} tokens for today. The allowance resets at midnight UTC.`,
      );
      await reply.finish(quota.userText(words), { kind: 'notice' });
      return outcome('refused', true, quota.code);
    }

    const prompt = buildPrompt({ systemPrompt: persona.systemPrompt, passages: [], history, question });
    const { work } = this.estimator.estimate(tenant.tenantId, prompt, { withDocuments: hasDocuments, maxTokens: persona.maxTokens });

    // The wait shows as a status (where the platform has one), not as a message that ages.
    let waitMs = 0;
    let slotGranted = false;
    const generated: Generated = { text: '', tokens: 0 };
    progress.waiting?.();
    const kept = { persona: persona.name, questionId, answerId: progress.answerId, askerId: msg.caller.userId, reservation };
    try {
      const { result, passages, roughPrompt } = await admission.run(
        tenant,
        tenant.limits,
        (slot) => this.generate(tenant, question, persona, history, hasDocuments && askedIn(msg), reply, msg.signal, generated, progress, slot, key),
        {
          work,
          onWait: (wait) => void (slotGranted || reply.status(waitStatus(wait, words))),
          onStart: (waited) => {
            slotGranted = true;
            waitMs = waited;
            void reply.status(STATUS.thinking);
            progress.answering?.();
          },
          ...(msg.signal ? { signal: msg.signal } : {}),
        },
      );
      this.estimator.learn(tenant.tenantId, { completionTokens: result.completionTokens, promptTokens: result.promptTokens, roughPrompt });
      const cite = citationLine(passages);
      const text = (result.text.trim() || EMPTY_ANSWER) + (cite ? `\n\n${cite}` : '');
      const sources = [...new Set(passages.map((p) => p.title))];
      await this.records.deliver(tenant, key, reply, text, {
        ...kept,
        content: result.text,
        sources,
        promptTokens: result.promptTokens,
        completionTokens: result.completionTokens,
        stopped: false,
      });
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
        // Left as it is for whoever resumes the job (it reserves again); the runner keeps the tokens generated so far.
        reply.abandon();
        await usage.record(tenant, { release: reservation }).catch(() => undefined);
        throw interrupted;
      }
      // Stopped by someone, or cut off by the backend part-way: the partial answer stays, marked,
      // remembered and metered as such (instead of a "can't reach the model" that hides it).
      const ending = partialEnding(msg, err, generated.text);
      if (ending) {
        await this.records.deliver(tenant, key, reply, ending.shown, {
          ...kept,
          content: ending.kept,
          sources: [],
          promptTokens: 0,
          completionTokens: generated.tokens,
          stopped: ending.stopped,
        });
        const log = { tenantId: tenant.tenantId, answerId: progress.answerId, tokens: generated.tokens };
        if (ending.stopped) this.deps.logger.info(log, 'answer stopped');
        else this.deps.logger.warn({ ...log, code: asBotError(err).code, err: String(err) }, 'answer cut off by the backend');
        const answer = { persona: persona.name, passages: 0, promptTokens: 0, completionTokens: generated.tokens, waitMs, ...(ending.stopped ? { stopped: true } : {}) };
        return ending.stopped ? { ...outcome('answered', true), answer } : { ...outcome('failed', true, asBotError(err).code), answer };
      }
      // An answer cut short otherwise (the console's Ctrl-C) still cost what was generated.
      const spent = err instanceof LlmError && err.kind === 'aborted' ? generated.tokens : 0;
      await usage.record(tenant, { ...(spent > 0 ? { requests: 1, completionTokens: spent } : {}), release: reservation });
      if (spent > 0) metrics.tokens.inc({ tenant: tenant.tenantId, kind: 'completion' }, spent);
      return this.fail(tenant, err, reply, words);
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
    generated: Generated,
    progress: AnswerProgress,
    slot: AdmittedSlot,
    key: ConversationKey,
  ) {
    const { backend, options } = this.deps;
    const passages = withKnowledge ? await this.context.retrieve(tenant, question, withKnowledge) : [];
    const messages: ChatMessage[] = buildPrompt({ systemPrompt: persona.systemPrompt, passages, history, question });
    try {
      const result = await backend.chat(
        {
          model: persona.model ?? options.chatModel,
          messages,
          ...(persona.temperature != null ? { temperature: persona.temperature } : {}),
          ...(persona.maxTokens != null ? { maxTokens: persona.maxTokens } : {}),
          ...(signal ? { signal } : {}),
          // A conversation stays on the backend that holds its prompt cache.
          affinity: `${tenant.tenantId}:${key.channelId}:${key.threadId ?? ''}`,
        },
        (delta) => {
          generated.text += delta;
          // Ollama streams about one token per chunk: the count is exact enough to meter an answer cut short.
          generated.tokens += 1;
          progress.tokens?.(generated.tokens);
          reply.update(generated.text);
        },
      );
      // The fair order charges what the backend really did, not the estimate.
      slot.used({ promptTokens: result.promptTokens, outputTokens: result.completionTokens });
      return { result, passages, roughPrompt: roughPromptTokens(messages) };
    } catch (err) {
      slot.used({ promptTokens: 0, outputTokens: generated.tokens });
      throw err;
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

/** Shown when the model returns nothing at all. */
const EMPTY_ANSWER = '(The model returned an empty answer.)';
