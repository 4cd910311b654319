/**
 * The shared LLM backend over the `ollama` npm client.
 *
 * Every call gets its own client instance whose `fetch` carries a per-call AbortSignal: the
 * client's own abort() cancels every stream of an instance, and its non-streaming methods
 * (embed, list, version) take no signal at all, so this is the one place where stall, timeout
 * and caller cancellation can really close the HTTP request.
 */
import { Ollama } from 'ollama';
import type { Logger } from '../logger.js';
import { noMetrics, type Counter, type Histogram, type MetricRegistry } from '../metrics.js';
import { toLlmError } from './errors.js';
import { PullProgressReporter } from './pull-progress.js';
import { LlmError, type BackendHealth, type ChatRequest, type ChatResult, type LlmBackend, type LlmErrorKind } from '../ports/llm.js';

export interface OllamaBackendOptions {
  host: string;
  /** Longest silence (before the first chunk or between chunks) before a call is abandoned. */
  stallMs: number;
  /** Longest whole chat or embed call. */
  timeoutMs: number;
  /** Where this backend registers the metrics it owns (call latency, failed calls). */
  metrics?: MetricRegistry;
  logger?: Logger;
  /** Inputs per /api/embed request (default 64). */
  embedBatchSize?: number;
  /** Bound on health() and model-list look-ups (default 3000 ms). */
  healthTimeoutMs?: number;
  /** Silence allowed in a pull's progress stream (default max(stallMs, 120 s)). */
  pullStallMs?: number;
  /** How long hasModel() trusts the model list (default 30 s). */
  modelCacheMs?: number;
  /**
   * Load-time options sent with every chat and embed call (Ollama reloads a model whose
   * num_ctx changes, so every caller must send the same). Unset: Ollama's own defaults.
   */
  pinned?: PinnedOptions;
  fetch?: typeof fetch;
}

export interface PinnedOptions {
  /** num_ctx */
  numCtx?: number;
  /** keep_alive: a duration such as '30m', or seconds. */
  keepAlive?: string | number;
}

/** A chat result with what a pool measures speed by: Ollama's own generation time. */
export interface OllamaChatResult extends ChatResult {
  /** Ollama's eval_duration in ms (generation of completionTokens), when it reported one. */
  evalMs?: number;
}

/** What a probe of the server found. */
export interface OllamaProbe {
  version: string;
  /** Models it has (normalized names). */
  models: string[];
}

/** Ollama treats a name without a tag as ':latest'. */
export function normalizeModelName(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}

interface GuardOptions {
  model?: string;
  signal?: AbortSignal;
  stallMs?: number;
  timeoutMs?: number;
}

/** Wraps an error thrown by the caller's own callback so it is rethrown untouched. */
class CallbackFailure {
  constructor(readonly error: unknown) {}
}

export class OllamaBackend implements LlmBackend {
  private readonly fetchImpl: typeof fetch;
  private readonly embedBatchSize: number;
  private readonly healthTimeoutMs: number;
  private readonly pullStallMs: number;
  private readonly modelCacheMs: number;
  private modelCache?: { names: Set<string>; at: number };
  private readonly latency: Histogram<'model'>;
  private readonly failures: Counter<'kind'>;

  constructor(private readonly opts: OllamaBackendOptions) {
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.embedBatchSize = Math.max(1, opts.embedBatchSize ?? 64);
    this.healthTimeoutMs = opts.healthTimeoutMs ?? 3000;
    this.pullStallMs = opts.pullStallMs ?? Math.max(opts.stallMs, 120_000);
    this.modelCacheMs = opts.modelCacheMs ?? 30_000;
    const metrics = opts.metrics ?? noMetrics;
    this.latency = metrics.histogram({
      name: 'bot_llm_latency_seconds',
      help: 'Backend chat latency',
      labelNames: ['model'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160],
    });
    this.failures = metrics.counter({ name: 'bot_llm_errors_total', help: 'Backend calls (chat, embed, pull) that failed, by kind', labelNames: ['kind'] });
  }

  async chat(req: ChatRequest, onText: (delta: string) => void): Promise<OllamaChatResult> {
    const options: Record<string, number> = {};
    if (this.opts.pinned?.numCtx !== undefined) options.num_ctx = this.opts.pinned.numCtx;
    if (req.temperature !== undefined) options.temperature = req.temperature;
    if (req.maxTokens !== undefined) options.num_predict = req.maxTokens;
    const started = performance.now();
    const guard = { model: req.model, signal: req.signal, stallMs: this.opts.stallMs, timeoutMs: this.opts.timeoutMs };
    const result = await this.guarded(guard, async (client, touch) => {
      const stream = await client.chat({ model: req.model, messages: req.messages, stream: true, options, ...this.keepAlive() });
      touch();
      let text = '';
      let pieces = 0;
      let promptTokens = 0;
      let completionTokens = 0;
      let evalMs: number | undefined;
      for await (const part of stream) {
        touch();
        const piece = part.message?.content ?? '';
        if (piece) {
          text += piece;
          pieces++;
          try {
            onText(piece);
          } catch (err) {
            throw new CallbackFailure(err);
          }
        }
        if (part.done) {
          promptTokens = part.prompt_eval_count ?? 0;
          completionTokens = part.eval_count ?? pieces;
          if (part.eval_duration) evalMs = part.eval_duration / 1e6;
        }
      }
      return { text, promptTokens, completionTokens, ...(evalMs !== undefined ? { evalMs } : {}) };
    });
    const backendMs = performance.now() - started;
    this.latency.observe({ model: req.model }, backendMs / 1000);
    return { ...result, backendMs };
  }

  async embed(model: string, inputs: string[], signal?: AbortSignal): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let i = 0; i < inputs.length; i += this.embedBatchSize) {
      const batch = inputs.slice(i, i + this.embedBatchSize);
      const embeddings = await this.guarded({ model, signal, timeoutMs: this.opts.timeoutMs }, async (client) => {
        const res = await client.embed({ model, input: batch, ...this.keepAlive(), ...this.numCtx() });
        if (!Array.isArray(res.embeddings) || res.embeddings.length !== batch.length) {
          throw new Error(`expected ${batch.length} embeddings, got ${res.embeddings?.length ?? 'none'}`);
        }
        return res.embeddings;
      });
      vectors.push(...embeddings);
    }
    return vectors;
  }

  private keepAlive(): { keep_alive?: string | number } {
    const k = this.opts.pinned?.keepAlive;
    return k === undefined ? {} : { keep_alive: k };
  }

  private numCtx(): { options?: { num_ctx: number } } {
    const n = this.opts.pinned?.numCtx;
    return n === undefined ? {} : { options: { num_ctx: n } };
  }

  /** The server's version and models, bounded by the health time-out; throws LlmError (never counted as a failed call). */
  async probe(): Promise<OllamaProbe> {
    return this.guarded({ timeoutMs: this.healthTimeoutMs }, async (client) => {
      const { version } = await client.version();
      return { version, models: await this.listModels(client) };
    }, false);
  }

  async health(): Promise<BackendHealth> {
    try {
      const names = await this.guarded({ timeoutMs: this.healthTimeoutMs }, async (client) => {
        await client.version();
        return this.listModels(client);
      }, false);
      return { ok: true, models: names };
    } catch (err) {
      return { ok: false, models: [], error: (err as Error).message };
    }
  }

  async ensureModels(models: string[], onProgress: (line: string) => void): Promise<void> {
    const present = new Set(await this.guarded({ timeoutMs: this.healthTimeoutMs }, (client) => this.listModels(client)));
    const wanted = [...new Set(models.map(normalizeModelName))];
    for (const model of wanted) {
      if (present.has(model)) {
        onProgress(`${model}: present`);
        continue;
      }
      onProgress(`${model}: missing, pulling`);
      const reporter = new PullProgressReporter(model, onProgress);
      await this.guarded({ model, stallMs: this.pullStallMs }, async (client, touch) => {
        const stream = await client.pull({ model, stream: true });
        for await (const part of stream) {
          touch();
          reporter.report(part);
        }
      });
      this.modelCache = undefined;
      onProgress(`${model}: ready`);
    }
  }

  /** Whether the backend has `name` (tag optional), from a briefly cached model list. Throws LlmError when unreachable. */
  async hasModel(name: string): Promise<boolean> {
    const fresh = this.modelCache && performance.now() - this.modelCache.at < this.modelCacheMs;
    if (!fresh) await this.guarded({ timeoutMs: this.healthTimeoutMs }, (client) => this.listModels(client));
    return this.modelCache!.names.has(normalizeModelName(name));
  }

  private async listModels(client: Ollama): Promise<string[]> {
    const { models } = await client.list();
    const names = models.map((m) => normalizeModelName(m.name));
    this.modelCache = { names: new Set(names), at: performance.now() };
    return names;
  }

  /**
   * Runs one backend call with its own client and AbortController, arming the total timeout,
   * the stall timer (re-armed by `touch`) and the caller's signal; maps failures to LlmError.
   */
  private async guarded<T>(
    g: GuardOptions,
    run: (client: Ollama, touch: () => void) => Promise<T>,
    countErrors = true,
  ): Promise<T> {
    const controller = new AbortController();
    let abortedAs: LlmErrorKind | undefined;
    const abortAs = (kind: LlmErrorKind) => {
      abortedAs ??= kind;
      controller.abort();
    };
    const onCallerAbort = () => abortAs('aborted');
    if (g.signal?.aborted) abortAs('aborted');
    g.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const totalTimer = g.timeoutMs ? setTimeout(() => abortAs('timeout'), g.timeoutMs) : undefined;
    let stallTimer: NodeJS.Timeout | undefined;
    const touch = () => {
      if (!g.stallMs) return;
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => abortAs('stalled'), g.stallMs);
    };
    touch();
    const client = new Ollama({
      host: this.opts.host,
      fetch: (input, init) => {
        const signal = init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
        return this.fetchImpl(input, { ...init, signal });
      },
    });
    try {
      if (abortedAs) throw new LlmError(abortedAs, 'the request was cancelled');
      return await run(client, touch);
    } catch (err) {
      if (err instanceof CallbackFailure) throw err.error;
      const llmError = toLlmError(err, abortedAs, g.model);
      // A call the caller cancelled (a stop, a shutdown) is not a backend failure.
      if (llmError.kind === 'aborted') this.opts.logger?.debug({ model: g.model }, 'llm call cancelled by the caller');
      else if (countErrors) {
        this.failures.inc({ kind: llmError.kind });
        this.opts.logger?.warn({ kind: llmError.kind, model: g.model, err: llmError.message }, 'llm call failed');
      }
      throw llmError;
    } finally {
      clearTimeout(totalTimer);
      clearTimeout(stallTimer);
      g.signal?.removeEventListener('abort', onCallerAbort);
      // Closes the socket of a response not read to its end; a no-op once the body is consumed.
      controller.abort();
    }
  }
}
