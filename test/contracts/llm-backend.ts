/**
 * The LlmBackend contract: what the core may rely on from any backend, judged against fake
 * Ollama servers through the real client. Call llmBackendContract(descriptor) from a test file;
 * the descriptor builds the backend over fresh fakes (test/llm-backend-contract.test.ts runs it
 * for OllamaBackend, a pool of one and a pool of two).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LlmBackend } from '../../src/ports/llm.js';
import type { FakeOllama } from '../fakes/ollama.js';
import { failure } from '../helpers/llm-failure.js';

export interface LlmBackendHarness {
  backend: LlmBackend;
  /** Every server behind the backend. */
  servers: FakeOllama[];
  close(): Promise<void>;
}

export interface LlmBackendDescriptor {
  name: string;
  /** A backend over fresh fake servers that all have `models`. */
  create(models: string[]): Promise<LlmBackendHarness>;
}

const CHAT = 'llama3.2:3b';
const EMBED = 'nomic-embed-text';

export function llmBackendContract(d: LlmBackendDescriptor): void {
  describe(`LlmBackend contract: ${d.name}`, () => {
    let h: LlmBackendHarness | undefined;
    const make = async (models = [CHAT, EMBED]) => (h = await d.create(models));
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it('streams the answer in order and reports Ollama\'s counts', async () => {
      const { backend, servers } = await make();
      for (const s of servers) s.reply = () => 'one two three four';
      const pieces: string[] = [];
      const r = await backend.chat({ model: CHAT, messages: [{ role: 'user', content: 'count to four' }] }, (p) => pieces.push(p));
      expect(pieces.join('')).toBe('one two three four');
      expect(r).toMatchObject({ text: 'one two three four', completionTokens: 4, promptTokens: 3 });
      expect(r.backendMs).toBeGreaterThan(0);
    });

    it('embeds many inputs, one vector each, in order', async () => {
      const { backend } = await make();
      const texts = ['alpha beta', 'gamma delta', 'alpha beta'];
      const vectors = await backend.embed(EMBED, texts);
      expect(vectors).toHaveLength(3);
      expect(vectors[0]).toEqual(vectors[2]);
      expect(vectors[0]).not.toEqual(vectors[1]);
    });

    it('says which models it has (tag optional) and health() lists them', async () => {
      const { backend } = await make();
      expect(await backend.hasModel(EMBED)).toBe(true);
      expect(await backend.hasModel(`${EMBED}:latest`)).toBe(true);
      expect(await backend.hasModel('nosuch:7b')).toBe(false);
      const health = await backend.health();
      expect(health.ok).toBe(true);
      expect(health.models).toEqual(expect.arrayContaining([CHAT, `${EMBED}:latest`]));
    });

    it('a model no server has is "unknown_model"', async () => {
      const { backend } = await make();
      const err = await failure(backend.chat({ model: 'nosuch:7b', messages: [{ role: 'user', content: 'x' }] }, () => {}));
      expect(err.kind).toBe('unknown_model');
    });

    it('no server reachable is "unreachable" for calls and not ok for health()', async () => {
      const { backend, servers } = await make();
      await Promise.all(servers.map((s) => s.down()));
      expect((await failure(backend.chat({ model: CHAT, messages: [{ role: 'user', content: 'x' }] }, () => {}))).kind).toBe('unreachable');
      expect((await failure(backend.embed(EMBED, ['x']))).kind).toBe('unreachable');
      expect((await backend.health()).ok).toBe(false);
    });

    it('a caller abort ends the call as "aborted" and closes the request', async () => {
      const { backend, servers } = await make();
      for (const s of servers) {
        s.tokenDelayMs = 10;
        s.reply = () => Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
      }
      const stop = new AbortController();
      const call = backend.chat({ model: CHAT, messages: [{ role: 'user', content: 'long' }], signal: stop.signal }, () => stop.abort());
      expect((await failure(call)).kind).toBe('aborted');
      await expect.poll(() => servers.reduce((n, s) => n + s.abortedChats.length, 0)).toBe(1);
    });

    it('ensureModels pulls what is missing and reports progress', async () => {
      const { backend, servers } = await make([CHAT]);
      const lines: string[] = [];
      await backend.ensureModels([CHAT, EMBED], (l) => lines.push(l));
      expect(servers.every((s) => s.hasModel(EMBED))).toBe(true);
      expect(lines.some((l) => l.includes(`${EMBED}:latest: ready`))).toBe(true);
      expect(await backend.hasModel(EMBED)).toBe(true);
    });
  });
}
