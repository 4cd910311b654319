/**
 * A fake Ollama server for tests: real HTTP on 127.0.0.1 (port 0), speaking the wire format the
 * `ollama` npm client (0.6) uses, so code under test runs through the real client.
 *
 * API (for every test that needs a backend):
 *
 *   const fake = await startFakeOllama({ models: ['llama3.2:3b', 'nomic-embed-text'], tokenDelayMs: 5 });
 *   fake.url                       // 'http://127.0.0.1:PORT' (give it to OllamaBackend / OLLAMA_HOST)
 *   await fake.close()
 *
 * Routes: POST /api/chat (stream NDJSON or one JSON), POST /api/embed, GET /api/tags,
 * GET /api/version, POST /api/show, POST /api/pull (stream NDJSON progress; adds the model).
 * Names without a tag mean ':latest', as in Ollama. An unknown model is a 404
 * `{"error":"model \"x\" not found, try pulling it first"}` (Ollama's own words).
 *
 * Answers (deterministic):
 *   default reply            'Answer to: <last user message>'
 *   fake.reply = (req) => s  computed reply (req is the parsed /api/chat body)
 *   fake.queueReply('a', 'b') replies used once each, in order, before `reply`/default
 *   Pieces are word tokens with their leading space (/\s*\S+/), one NDJSON line each, every
 *   `fake.tokenDelayMs` ms. eval_count = pieces sent; prompt_eval_count = words in all messages.
 *   options.num_predict stops after that many pieces with done_reason 'length'.
 *
 * Embeddings: fakeEmbedding(text, dims) (./ollama-embedding.ts, re-exported here) — a
 * normalized, signed, hashed bag of lowercased words plus word bigrams; texts sharing words
 * have high cosine similarity. Dims per model (default 256):
 * `startFakeOllama({ dims: { 'nomic-embed-text': 768 } })` or fake.addModel(name, { dims }).
 *
 * Faults (each applies once, to the next matching request):
 *   fake.failNext({ status: 503, body?: {error}, path?: '/api/chat', reset?: true })
 *       answer with that status + JSON body, or (reset) destroy the socket (ECONNRESET)
 *   fake.stallAfter(n)       next chat stream sends n pieces then nothing, connection kept open
 *   fake.delayFirstByte(ms, path = '/api/chat')   wait before sending headers
 *   await fake.down() / await fake.up()   stop listening (connection refused) / listen again, same port
 *   fake.unpullable.add(name)   /api/pull of that name fails like a missing manifest
 *
 * Persistent fault (applies to every matching request until cleared; one-shot faults come first):
 *   fake.failEvery({ status: 503, body: { error: 'server busy, please try again' }, path: '/api/chat' })
 *       e.g. an Ollama whose queue is full; fake.failEvery(undefined) clears it. Without `path`
 *       every route fails, /api/version and /api/tags included (a broken server, not a busy one).
 *
 * Inspection: fake.requests ({ method, path, body }[]), fake.chatRequests(), fake.embedRequests(),
 * fake.inFlight / fake.peakInFlight (chat requests open at once), fake.processing /
 * fake.peakProcessing (chat requests being generated), fake.abortedChats (when the client hung up
 * on an unfinished chat stream: a stop frees its slot). Set `fake.parallel = n` to act like
 * OLLAMA_NUM_PARALLEL: extra chat requests wait server-side (sending nothing) for a slot.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeEmbedding, fnv1a } from './ollama-embedding.js';

export { fakeEmbedding };

export interface FakeOllamaOptions {
  models?: string[];
  dims?: Record<string, number>;
  tokenDelayMs?: number;
  parallel?: number;
  /** Progress lines per pulled layer, and the pause between them. */
  pullSteps?: number;
  pullDelayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: any;
}

export interface FailSpec {
  status?: number;
  body?: unknown;
  path?: string;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
}

const DEFAULT_DIMS = 256;

export function normalizeModel(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}

const wordCount = (s: string) => s.split(/\s+/).filter(Boolean).length;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const digestOf = (name: string) => fnv1a(name).toString(16).padStart(8, '0').repeat(8);

export class FakeOllama {
  url = '';
  port = 0;
  readonly requests: RecordedRequest[] = [];
  readonly unpullable = new Set<string>();
  reply?: (req: any) => string;
  tokenDelayMs: number;
  parallel?: number;
  pullSteps: number;
  pullDelayMs: number;
  inFlight = 0;
  peakInFlight = 0;
  /** When each chat request the client hung up on before its end came (a stop, a timeout). */
  readonly abortedChats: number[] = [];
  processing = 0;
  peakProcessing = 0;

  private readonly models = new Map<string, { dims: number; modifiedAt: string }>();
  private readonly replies: string[] = [];
  private readonly failures: FailSpec[] = [];
  private readonly firstByteDelays: { ms: number; path: string }[] = [];
  private stallNext: number | null = null;
  private persistentFault?: FailSpec;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly server: Server;
  private listening = false;

  constructor(private readonly opts: FakeOllamaOptions = {}) {
    this.tokenDelayMs = opts.tokenDelayMs ?? 0;
    this.parallel = opts.parallel;
    this.pullSteps = opts.pullSteps ?? 10;
    this.pullDelayMs = opts.pullDelayMs ?? 0;
    for (const m of opts.models ?? ['llama3.2:3b', 'nomic-embed-text']) this.addModel(m);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) this.json(res, 500, { error: String(err) });
        else res.destroy();
      });
    });
  }

  addModel(name: string, o: { dims?: number } = {}): void {
    const key = normalizeModel(name);
    const dims = o.dims ?? this.opts.dims?.[name] ?? this.opts.dims?.[key] ?? DEFAULT_DIMS;
    this.models.set(key, { dims, modifiedAt: new Date().toISOString() });
  }
  removeModel(name: string): void {
    this.models.delete(normalizeModel(name));
  }
  hasModel(name: string): boolean {
    return this.models.has(normalizeModel(name));
  }
  queueReply(...texts: string[]): void {
    this.replies.push(...texts);
  }
  failNext(spec: FailSpec): void {
    this.failures.push({ status: 500, ...spec });
  }
  failEvery(spec: FailSpec | undefined): void {
    this.persistentFault = spec && { status: 500, ...spec };
  }
  stallAfter(pieces: number): void {
    this.stallNext = pieces;
  }
  delayFirstByte(ms: number, path = '/api/chat'): void {
    this.firstByteDelays.push({ ms, path });
  }
  chatRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/api/chat');
  }
  embedRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/api/embed');
  }

  async up(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  /** Stops listening and drops every open connection: new connections are refused. */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections();
    await closed;
  }

  close(): Promise<void> {
    return this.down();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const raw = await new Promise<string>((resolve, reject) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (data += c));
      req.on('end', () => resolve(data));
      req.on('error', reject);
    });
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return this.json(res, 400, { error: 'invalid character in request body' });
    }
    this.requests.push({ method: req.method ?? 'GET', path, body });

    const fi = this.failures.findIndex((f) => !f.path || f.path === path);
    const persistent = this.persistentFault && (!this.persistentFault.path || this.persistentFault.path === path) ? this.persistentFault : undefined;
    if (fi >= 0 || persistent) {
      const f = fi >= 0 ? this.failures.splice(fi, 1)[0] : persistent;
      if (f!.reset) return void req.socket.destroy();
      return this.json(res, f!.status!, f!.body ?? { error: `fake failure ${f!.status}` });
    }
    const di = this.firstByteDelays.findIndex((d) => d.path === path);
    if (di >= 0) {
      const [d] = this.firstByteDelays.splice(di, 1);
      // Wait, but stop waiting as soon as the client hangs up (no stray timers after a test).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, d!.ms);
        res.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (res.destroyed) return;
    }

    const route = `${req.method} ${path}`;
    if (route === 'POST /api/chat') return this.chat(body, res);
    if (route === 'POST /api/embed') return this.embed(body, res);
    if (route === 'POST /api/pull') return this.pull(body, res);
    if (route === 'GET /api/version') return this.json(res, 200, { version: '0.6.8' });
    if (route === 'GET /api/tags') return this.json(res, 200, { models: this.listModels() });
    if (route === 'POST /api/show') return this.show(body, res);
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found');
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  }

  private notFound(res: ServerResponse, model: string): void {
    this.json(res, 404, { error: `model "${model}" not found, try pulling it first` });
  }

  private listModels() {
    return [...this.models].map(([name, m]) => ({
      name,
      model: name,
      modified_at: m.modifiedAt,
      size: 2_019_393_189,
      digest: digestOf(name),
      details: { parent_model: '', format: 'gguf', family: 'fake', families: ['fake'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' },
    }));
  }

  private show(body: any, res: ServerResponse): void {
    const name = String(body?.model ?? body?.name ?? '');
    const m = this.models.get(normalizeModel(name));
    if (!m) return this.json(res, 404, { error: `model '${name}' not found` });
    this.json(res, 200, {
      modelfile: `FROM ${name}`,
      parameters: 'stop "<|eot_id|>"',
      template: '{{ .Prompt }}',
      details: { parent_model: '', format: 'gguf', family: 'fake', families: ['fake'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' },
      model_info: { 'general.architecture': 'fake', 'fake.embedding_length': m.dims, 'fake.context_length': 131072 },
      capabilities: ['completion', 'embedding'],
      modified_at: m.modifiedAt,
    });
  }

  private embed(body: any, res: ServerResponse): void {
    const model = String(body?.model ?? '');
    if (!model) return this.json(res, 400, { error: 'model is required' });
    const m = this.models.get(normalizeModel(model));
    if (!m) return this.notFound(res, model);
    const inputs: string[] = Array.isArray(body.input) ? body.input : [String(body.input ?? '')];
    const started = process.hrtime.bigint();
    const embeddings = inputs.map((t) => fakeEmbedding(String(t), m.dims));
    const total = Number(process.hrtime.bigint() - started);
    this.json(res, 200, {
      model,
      embeddings,
      total_duration: total,
      load_duration: 1000,
      prompt_eval_count: inputs.reduce((n, t) => n + wordCount(String(t)), 0),
    });
  }

  private nextReply(body: any): string {
    const queued = this.replies.shift();
    if (queued !== undefined) return queued;
    if (this.reply) return this.reply(body);
    const lastUser = [...(body.messages ?? [])].reverse().find((m: any) => m.role === 'user');
    return `Answer to: ${lastUser?.content ?? ''}`;
  }

  private async acquireSlot(res: ServerResponse): Promise<boolean> {
    while (this.parallel !== undefined && this.processing >= this.parallel) {
      await new Promise<void>((resolve) => {
        this.slotWaiters.push(resolve);
        res.once('close', resolve);
      });
      if (res.destroyed) return false;
    }
    this.processing++;
    this.peakProcessing = Math.max(this.peakProcessing, this.processing);
    return true;
  }

  private releaseSlot(): void {
    this.processing--;
    // Wake every waiter; each re-checks for a free slot (a waiter whose client left just exits).
    for (const wake of this.slotWaiters.splice(0)) wake();
  }

  private async chat(body: any, res: ServerResponse): Promise<void> {
    const model = String(body?.model ?? '');
    if (!model) return this.json(res, 400, { error: 'model is required' });
    if (!this.hasModel(model)) return this.notFound(res, model);
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    let closed = false;
    res.once('close', () => {
      closed = true;
      this.inFlight--;
      if (!res.writableFinished) this.abortedChats.push(Date.now());
    });
    if (!(await this.acquireSlot(res))) return;
    try {
      await this.generate(body, model, res, () => closed);
    } finally {
      this.releaseSlot();
    }
  }

  private async generate(body: any, model: string, res: ServerResponse, isClosed: () => boolean): Promise<void> {
    const started = process.hrtime.bigint();
    const text = this.nextReply(body);
    const all = text.match(/\s*\S+/g) ?? [];
    const limit = body.options?.num_predict;
    const pieces = typeof limit === 'number' && limit >= 0 && limit < all.length ? all.slice(0, limit) : all;
    const doneReason = pieces.length < all.length ? 'length' : 'stop';
    const stallAt = this.stallNext;
    this.stallNext = null;
    const promptCount = (body.messages ?? []).reduce((n: number, m: any) => n + wordCount(String(m.content ?? '')), 0);
    const stream = body.stream ?? true; // Ollama streams unless told otherwise
    const at = () => new Date().toISOString();
    const final = (content: string) => {
      const total = Number(process.hrtime.bigint() - started);
      return {
        model, created_at: at(), message: { role: 'assistant', content }, done: true, done_reason: doneReason,
        total_duration: total, load_duration: 1000, prompt_eval_count: promptCount,
        prompt_eval_duration: Math.floor(total / 10), eval_count: pieces.length, eval_duration: Math.floor(total * 0.9),
      };
    };

    if (!stream) {
      if (stallAt !== null) return new Promise<void>((r) => res.once('close', () => r()));
      for (let i = 0; i < pieces.length && this.tokenDelayMs > 0; i++) await sleep(this.tokenDelayMs);
      if (isClosed()) return;
      return this.json(res, 200, final(pieces.join('')));
    }

    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    res.flushHeaders();
    for (let i = 0; i < pieces.length; i++) {
      if (stallAt !== null && i >= stallAt) break;
      if (this.tokenDelayMs > 0) await sleep(this.tokenDelayMs);
      if (isClosed()) return;
      res.write(JSON.stringify({ model, created_at: at(), message: { role: 'assistant', content: pieces[i] }, done: false }) + '\n');
    }
    // A stalled stream stays open, silent, until the client gives up (or the fake closes).
    if (stallAt !== null) return new Promise<void>((r) => (isClosed() ? r() : res.once('close', () => r())));
    if (isClosed()) return;
    res.end(JSON.stringify(final('')) + '\n');
  }

  private async pull(body: any, res: ServerResponse): Promise<void> {
    const name = String(body?.model ?? body?.name ?? '');
    const stream = body?.stream ?? true;
    const missing = this.unpullable.has(name) || this.unpullable.has(normalizeModel(name));
    if (!stream) {
      if (missing) return this.json(res, 500, { error: 'pull model manifest: file does not exist' });
      this.addModel(name);
      return this.json(res, 200, { status: 'success' });
    }
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    const line = (o: unknown) => res.write(JSON.stringify(o) + '\n');
    line({ status: 'pulling manifest' });
    if (missing) return void res.end(JSON.stringify({ error: 'pull model manifest: file does not exist' }) + '\n');
    const digest = `sha256:${digestOf(name)}`;
    const total = 2_019_377_376;
    for (let k = 0; k <= this.pullSteps; k++) {
      if (this.pullDelayMs > 0) await sleep(this.pullDelayMs);
      if (res.destroyed) return;
      const completed = Math.round((total * k) / this.pullSteps);
      line({ status: `pulling ${digest.slice(7, 19)}`, digest, total, ...(completed > 0 ? { completed } : {}) });
    }
    line({ status: 'verifying sha256 digest' });
    line({ status: 'writing manifest' });
    this.addModel(name);
    res.end(JSON.stringify({ status: 'success' }) + '\n');
  }
}

export async function startFakeOllama(opts: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const fake = new FakeOllama(opts);
  await fake.up();
  return fake;
}
