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
import type { AnswerBook, ChannelSettings, ConversationKey, ConversationStore, Persona, PersonaCatalog, StoredMessage, UsageLedger } from '../ports/stores.js';
import { BusyError, type Admission } from '../ports/admission.js';
import { LlmError, type LlmBackend } from '../ports/llm.js';
import type { InboundMessage } from '../ports/messages.js';
import type { AskedIn, KnowledgeBase, Passage } from '../ports/knowledge.js';
import { AnswerStopped, type AnswerProgress, type HandleOutcome } from '../ports/engine.js';
import { interruptionOf } from './interruption.js';
import { AnswerRecords } from './answer-records.js';
import { STATUS } from './status-text.js';
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

/** A waiting question shows its wait after this long (a slot that comes at once shows none). */
const WAIT_STATUS_AFTER_MS = 250;

export class AskPipeline {
  private readonly metrics: AnswerMetrics;
  private readonly records: AnswerRecords;

  constructor(private readonly deps: AskDeps) {
    this.metrics = new AnswerMetrics(deps.metrics);
    this.records = new AnswerRecords({ memory: deps.memory, usage: deps.usage, answers: deps.answers, metrics: this.metrics, logger: deps.logger });
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

    await this.bringInThread(tenant, msg, key);
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
    // The conversation's first question names its thread, where threads have names.
    if (maxMessages > 0 && history.length === 0) void reply.title(question);

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

    // The wait shows as a status (where the platform has one), not as a message that ages.
    let waitMs = 0;
    let slotGranted = false;
    const generated: Generated = { text: '', tokens: 0 };
    progress.waiting?.();
    const waitStatus = setTimeout(() => void (slotGranted || reply.status(STATUS.waiting())), WAIT_STATUS_AFTER_MS);
    const kept = { persona: persona.name, questionId, answerId: progress.answerId, askerId: msg.caller.userId };
    try {
      const { result, passages } = await admission.run(
        tenant,
        tenant.limits,
        () => this.generate(tenant, question, persona, history, hasDocuments && askedIn(msg), reply, msg.signal, generated, progress),
        {
          onStart: (waited) => {
            slotGranted = true;
            waitMs = waited;
            void reply.status(STATUS.thinking);
            progress.answering?.();
          },
          ...(msg.signal ? { signal: msg.signal } : {}),
        },
      );
      const cite = citationLine(passages);
      const text = (result.text.trim() || EMPTY_ANSWER) + (cite ? `\n\n${cite}` : '');
      const sources = [...new Set(passages.map((p) => p.title))];
      await this.deliver(tenant, key, reply, text, {
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
        // Left as it is for whoever resumes the job; the runner keeps the tokens generated so far.
        reply.abandon();
        throw interrupted;
      }
      const stop = stopOf(msg);
      if (stop) {
        // Stopped by someone: the partial answer stays, marked, remembered and metered as such.
        const partial = generated.text.trim();
        await this.deliver(tenant, key, reply, partial ? `${partial}\n\n${STOPPED_MARK}` : STOPPED_EARLY, {
          ...kept,
          content: partial ? `${partial}\n\n(stopped)` : '(stopped before answering)',
          sources: [],
          promptTokens: 0,
          completionTokens: generated.tokens,
          stopped: true,
        });
        this.deps.logger.info({ tenantId: tenant.tenantId, answerId: progress.answerId, tokens: generated.tokens }, 'answer stopped');
        return { ...outcome('answered', true), answer: { persona: persona.name, passages: 0, promptTokens: 0, completionTokens: generated.tokens, waitMs, stopped: true } };
      }
      // An answer cut short otherwise (the console's Ctrl-C) still cost what was generated.
      if (err instanceof LlmError && err.kind === 'aborted' && generated.tokens > 0) {
        await usage.record(tenant, { requests: 1, completionTokens: generated.tokens });
        metrics.tokens.inc({ tenant: tenant.tenantId, kind: 'completion' }, generated.tokens);
      }
      return this.fail(tenant, err, reply, vocabularies[msg.platform]);
    } finally {
      clearTimeout(waitStatus);
    }
  }

  /**
   * The final reply and the answer's records. The records go first (briefly: a feedback click
   * must find its answer), but a slow database never holds the reply back for long.
   */
  private async deliver(tenant: Tenant, key: ConversationKey, reply: ReplyStream, text: string, given: Parameters<AnswerRecords['keep']>[2]) {
    const kept = this.records.keep(tenant, key, given);
    await Promise.race([kept, new Promise((r) => setTimeout(r, RECORDS_FIRST_MS).unref())]);
    await reply.finish(text, { kind: 'answer' });
    await kept;
  }

  /** Earlier thread messages the bot never saw come in once, on its first mention there, and only when memory has none. */
  private async bringInThread(tenant: Tenant, msg: InboundMessage, key: ConversationKey): Promise<void> {
    const { memory } = this.deps;
    if (!msg.priorMessages?.length && !msg.threadHistory) return;
    if (await memory.hasAny(tenant, key)) return;
    const prior = msg.priorMessages?.length ? msg.priorMessages : await msg.threadHistory!().catch(() => []);
    if (prior.length) await memory.appendMany(tenant, key, prior.map((m) => ({ role: m.role, userId: m.userId, content: m.text })));
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
  ) {
    const { backend, options } = this.deps;
    const passages = withKnowledge ? await this.retrieve(tenant, question, withKnowledge) : [];
    const messages = buildPrompt({ systemPrompt: persona.systemPrompt, passages, history, question });
    const result = await backend.chat(
      {
        model: persona.model ?? options.chatModel,
        messages,
        ...(persona.temperature != null ? { temperature: persona.temperature } : {}),
        ...(persona.maxTokens != null ? { maxTokens: persona.maxTokens } : {}),
        ...(signal ? { signal } : {}),
      },
      (delta) => {
        generated.text += delta;
        // Ollama streams about one token per chunk: the count is exact enough to meter an answer cut short.
        generated.tokens += 1;
        progress.tokens?.(generated.tokens);
        reply.update(generated.text);
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
/** Ends an answer someone stopped. */
const STOPPED_MARK = '_(stopped)_';
const STOPPED_EARLY = '_(stopped before I could answer)_';
/** How long the final reply waits for the answer's records (a feedback click must find them). */
const RECORDS_FIRST_MS = 2_000;

/** Who stopped the answer, if that is why its signal fired. */
function stopOf(msg: InboundMessage): AnswerStopped | null {
  const reason: unknown = msg.signal?.aborted ? msg.signal.reason : undefined;
  return reason instanceof AnswerStopped ? reason : null;
}
