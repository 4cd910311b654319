/**
 * The backend pool against several fake Ollama servers in one test: routing (least loaded, slow
 * backends get less, affinity), slots never exceeded, failover before the first token and never
 * after it, 503 "busy" backends, cooldown and probing back in, capacity, health, pinned options,
 * caller aborts. Real HTTP and the real `ollama` client underneath.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LlmError } from '../src/ports/llm.js';
import { PoolMember } from '../src/llm/pool/member.js';
import { metricValue } from './helpers/metrics.js';
import { EMBED, MODEL, ask, startPool, until, words, type PoolWorld } from './helpers/pool.js';

let w: PoolWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('failover', () => {
  it('a backend killed mid-run: every call not yet streaming on it succeeds elsewhere; only streams cut on it fail', async () => {
    w = await startPool([{ tokenDelayMs: 4 }, { tokenDelayMs: 4 }, { tokenDelayMs: 4 }]);
    const [, victim] = w.fakes;
    victim!.reply = () => words(40);
    const calls = Array.from({ length: 24 }, (_, i) => ask(w!.pool, `question ${i}`));
    // Kill it while both its slots stream and the other calls wait for slots.
    await until(() => victim!.inFlight === 2 && victim!.requests.length > 0, 'the victim to stream');
    await new Promise((r) => setTimeout(r, 20));
    await victim!.down();
    const outcomes = await Promise.all(calls);

    const failed = outcomes.filter((o) => !o.ok);
    expect(failed.every((o) => o.error instanceof LlmError)).toBe(true);
    // Every failure is a stream that had shown text (kept by the caller as cut off) ...
    expect(failed.every((o) => o.started)).toBe(true);
    // ... on the backend that died, at most its two slots.
    const victimErrors = Object.values(w.pool.snapshot()[1]!.errors).reduce((n, x) => n + (x ?? 0), 0);
    expect(failed.length).toBe(victimErrors);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.length).toBeLessThanOrEqual(2);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(24 - failed.length);
    expect(w.pool.snapshot()[1]!.state).not.toBe('up');
    expect(w.pool.capacity()).toBe(4);
  });

  it('a failure before the first token is retried on another backend without the caller seeing it', async () => {
    w = await startPool([{}, {}], { slots: [1, 1] });
    w.fakes[0]!.failNext({ status: 500, path: '/api/chat' });
    w.fakes[1]!.failNext({ reset: true, path: '/api/chat' });
    const outcomes = await Promise.all([ask(w.pool, 'a'), ask(w.pool, 'b')]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(await metricValue(w.metrics, 'bot_backend_failovers_total')).toBe(2);
    expect(await metricValue(w.metrics, 'bot_pool_refused_total')).toBe(0);
  });

  it('a backend answering 503 to everything: all calls succeed elsewhere, and it is asked a bounded number of times', async () => {
    w = await startPool([{ tokenDelayMs: 1 }, { tokenDelayMs: 1 }, { tokenDelayMs: 1 }]);
    const busy = w.fakes[0]!;
    busy.failEvery({ status: 503, body: { error: 'server busy, please try again' }, path: '/api/chat' });
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => ask(w!.pool, `q${i}`)));
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    // 503 means busy, not dead: it stays up, but gets a growing pause after each "busy".
    expect(busy.chatRequests().length).toBeGreaterThan(0);
    expect(busy.chatRequests().length).toBeLessThanOrEqual(6);
    expect(w.pool.snapshot()[0]!.state).toBe('up');
  });

  it('503 from the only backend is retried after a short wait; the caller gets "overloaded" only past the wait limit', async () => {
    w = await startPool([{}], { waitMs: 600, busyWaitMs: 50 });
    w.fakes[0]!.failNext({ status: 503, path: '/api/chat' });
    expect((await ask(w.pool, 'once')).ok).toBe(true);
    w.fakes[0]!.failEvery({ status: 503, path: '/api/chat' });
    const refused = await ask(w.pool, 'always');
    expect(refused.error?.kind).toBe('overloaded');
    expect(await metricValue(w.metrics, 'bot_pool_refused_total', { kind: 'overloaded' })).toBe(1);
  });

  it('a stream cut after its first token is never retried: the error reaches the caller', async () => {
    w = await startPool([{ tokenDelayMs: 2 }, { tokenDelayMs: 2 }], { stallMs: 200 });
    for (const f of w.fakes) f.stallAfter(3);
    const o = await ask(w.pool, 'tell me a story');
    expect(o.error?.kind).toBe('stalled');
    expect(o.text.split(' ').length).toBeGreaterThanOrEqual(3);
    expect(w.fakes.reduce((n, f) => n + f.chatRequests().length, 0)).toBe(1);
  });

  it('a model missing on one backend is found on another', async () => {
    w = await startPool([{ models: [EMBED] }, { models: [MODEL, EMBED] }]);
    expect((await ask(w.pool, 'hi')).ok).toBe(true);
    expect(await w.pool.hasModel(MODEL)).toBe(true);
    expect(await w.pool.hasModel('nosuch:7b')).toBe(false);
    const missing = await w.pool.chat({ model: 'nosuch:7b', messages: [{ role: 'user', content: 'x' }] }, () => {}).catch((e: LlmError) => e);
    expect((missing as LlmError).kind).toBe('unknown_model');
  });

  it('embeddings fail over too, before any result', async () => {
    w = await startPool([{}, {}], { slots: [1, 1] });
    w.fakes[0]!.failNext({ status: 500, path: '/api/embed' });
    w.fakes[1]!.failNext({ status: 500, path: '/api/embed' });
    const [a, b] = await Promise.all([w.pool.embed(EMBED, ['one text']), w.pool.embed(EMBED, ['another text'])]);
    expect([a!.length, b!.length]).toEqual([1, 1]);
  });
});

describe('routing and slots', () => {
  it('never sends a backend more than its slots under a burst bigger than all slots (chat and embed)', async () => {
    w = await startPool([{ tokenDelayMs: 2 }, { tokenDelayMs: 3 }, { tokenDelayMs: 4 }], { slots: [1, 2, 3] });
    for (const f of w.fakes) f.reply = () => words(12);
    const work = Array.from({ length: 40 }, (_, i) => (i % 5 === 0 ? w!.pool.embed(EMBED, [`t${i}`]).then(() => true) : ask(w!.pool, `q${i}`).then((o) => o.ok)));
    let peakInUse = [0, 0, 0];
    const sampler = setInterval(() => (peakInUse = w!.pool.snapshot().map((s, i) => Math.max(peakInUse[i]!, s.inUse))), 1);
    const results = await Promise.all(work);
    clearInterval(sampler);
    expect(results.every(Boolean)).toBe(true);
    expect(w.fakes.map((f) => f.peakInFlight)).toEqual([1, 2, 3]);
    expect(peakInUse.every((p, i) => p <= [1, 2, 3][i]!)).toBe(true);
    expect(w.pool.snapshot().map((s) => s.inUse)).toEqual([0, 0, 0]);
  });

  it('a slow backend gets less work', async () => {
    w = await startPool([{ tokenDelayMs: 1 }, { tokenDelayMs: 1 }, { tokenDelayMs: 15 }]);
    for (const f of w.fakes) f.reply = () => words(10);
    await Promise.all(Array.from({ length: 36 }, (_, i) => ask(w!.pool, `q${i}`)));
    const [a, b, slow] = w.fakes.map((f) => f.chatRequests().length);
    expect(slow!).toBeLessThan(a!);
    expect(slow!).toBeLessThan(b!);
    const speeds = w.pool.snapshot().map((s) => s.tokensPerSecond ?? 0);
    expect(speeds[2]!).toBeLessThan(Math.min(speeds[0]!, speeds[1]!));
  });

  it('affinity keeps a conversation on its backend while that backend has a free slot', async () => {
    w = await startPool([{ tokenDelayMs: 2 }, { tokenDelayMs: 2 }]);
    // Without affinity, idle backends share the calls.
    await ask(w.pool, 'a');
    await ask(w.pool, 'b');
    expect(w.fakes.map((f) => f.chatRequests().length)).toEqual([1, 1]);

    for (let i = 0; i < 4; i++) await ask(w.pool, `turn ${i}`, { affinity: 'acme/general/t1' });
    const counts = w.fakes.map((f) => f.chatRequests().length - 1);
    expect(counts.sort()).toEqual([0, 4]);
    const home = w.fakes.findIndex((f) => f.chatRequests().length === 5);

    // Its backend full (two slots), a third call of the conversation goes elsewhere.
    for (const f of w.fakes) f.reply = () => words(30);
    const before = w.fakes.map((f) => f.chatRequests().length);
    await Promise.all([0, 1, 2].map((i) => ask(w!.pool, `burst ${i}`, { affinity: 'acme/general/t1' })));
    const added = w.fakes.map((f, i) => f.chatRequests().length - before[i]!);
    expect(added[home]).toBe(2);
    expect(added[1 - home]).toBe(1);
  });

  it('waits in order for a free slot up to the wait limit, then says "overloaded"', async () => {
    w = await startPool([{ tokenDelayMs: 20 }], { slots: [1], waitMs: 150 });
    w.fakes[0]!.reply = () => words(50);
    const long = ask(w.pool, 'long');
    await until(() => w!.fakes[0]!.inFlight === 1, 'the first call to run');
    const refused = await ask(w.pool, 'second');
    expect(refused.error?.kind).toBe('overloaded');
    expect(w.fakes[0]!.peakInFlight).toBe(1);
    expect((await long).ok).toBe(true);
  });

  it('sends the pinned num_ctx and keep_alive with every chat and embed call', async () => {
    w = await startPool([{}, {}], { pinned: { numCtx: 4096, keepAlive: '30m' } });
    await Promise.all([ask(w.pool, 'a'), ask(w.pool, 'b'), w.pool.embed(EMBED, ['x']), w.pool.embed(EMBED, ['y'])]);
    await w.pool.chat({ model: MODEL, messages: [{ role: 'user', content: 'c' }], temperature: 0.1, maxTokens: 5 }, () => {});
    const sent = w.fakes.flatMap((f) => f.requests.filter((r) => r.path === '/api/chat' || r.path === '/api/embed'));
    expect(sent).toHaveLength(5);
    for (const r of sent) expect(r.body).toMatchObject({ keep_alive: '30m', options: { num_ctx: 4096 } });
  });
});

describe('health, cooldown and capacity', () => {
  it('a backend that fails is cooled down (capacity drops, listeners hear it) and probed back in after it is up', async () => {
    w = await startPool([{}, {}], { slots: [2, 3] });
    let changes = 0;
    w.pool.onCapacityChange(() => changes++);
    expect((await w.pool.health()).ok).toBe(true);
    expect(w.pool.capacity()).toBe(5);

    await w.fakes[1]!.down();
    await until(() => w!.pool.capacity() === 2, 'the failed backend to be cooled down');
    expect(changes).toBeGreaterThan(0);
    expect(w.pool.snapshot()[1]).toMatchObject({ state: expect.stringMatching(/cooling|down/), reason: expect.any(String) });
    expect((await ask(w.pool, 'still served')).ok).toBe(true);

    const seen = changes;
    await w.fakes[1]!.up();
    await until(() => w!.pool.capacity() === 5, 'the backend to be probed back in');
    expect(changes).toBeGreaterThan(seen);
    expect(w.pool.snapshot()[1]!.state).toBe('up');
    expect(await metricValue(w.metrics, 'bot_backend_up', { backend: w.fakes[1]!.url })).toBe(1);
  });

  it('a backend that answers probes but fails its calls waits twice as long each time; a served call resets that', () => {
    const m = new PoolMember(undefined as never, 'http://gpu-a:11434', 2, { minMs: 100, maxMs: 400 });
    const cooldowns: [number, string][] = [];
    const fail = (now: number) => (m.markFailed('stalled', now), cooldowns.push([m.cooldownMs, m.state]));
    fail(0);
    m.markUp('probe');
    fail(1_000);
    m.markUp('probe');
    fail(2_000);
    fail(2_001); // another call that was already running: no second step
    m.markUp('probe');
    fail(3_000);
    m.markUp('call');
    fail(4_000);
    expect(cooldowns).toEqual([
      [100, 'cooling'],
      [200, 'cooling'],
      [400, 'down'],
      [400, 'down'],
      [400, 'down'],
      [100, 'cooling'],
    ]);
  });

  it('a backend that fails every chat but answers probes gets few calls, and every call succeeds elsewhere', async () => {
    w = await startPool([{ tokenDelayMs: 1 }, { tokenDelayMs: 1 }], { cooldown: { minMs: 20, maxMs: 5_000 }, healthIntervalMs: 10 });
    const broken = w.fakes[0]!;
    broken.failEvery({ status: 500, path: '/api/chat' });
    const outcomes: boolean[] = [];
    // One call at a time: never measured, the broken backend counts as the fastest, so it is
    // tried whenever it is up. Probed back in after 20, 40, 80, 160, 320 ... ms, it is up ever more rarely.
    for (let i = 0; i < 60; i++) {
      outcomes.push((await ask(w.pool, `q${i}`)).ok);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(outcomes.every(Boolean)).toBe(true);
    expect(broken.chatRequests().length).toBeGreaterThanOrEqual(2);
    // Without the growing backoff it would be tried on most of the 60 calls.
    expect(broken.chatRequests().length).toBeLessThanOrEqual(15);
  });

  it('health() is ok while every configured model is on a backend that is up', async () => {
    w = await startPool([{ models: [MODEL] }, { models: [EMBED] }]);
    expect(await w.pool.health()).toMatchObject({ ok: true, models: [`${MODEL}`, `${EMBED}:latest`] });
    w.fakes[1]!.removeModel(EMBED);
    const missing = await w.pool.health();
    expect(missing.ok).toBe(false);
    expect(missing.error).toContain(EMBED);
    w.fakes[1]!.addModel(EMBED);
    await Promise.all(w.fakes.map((f) => f.down()));
    const down = await w.pool.health();
    expect(down).toMatchObject({ ok: false, models: [] });
    expect(w.pool.capacity()).toBe(0);
  });

  it('with every backend down a call fails at once as unreachable, and the next one after it is back succeeds', async () => {
    w = await startPool([{}], { healthIntervalMs: 60_000, cooldown: { minMs: 60_000, maxMs: 60_000 } });
    await w.fakes[0]!.down();
    expect((await ask(w.pool, 'anyone?')).error?.kind).toBe('unreachable');
    await w.fakes[0]!.up();
    // No probe is due yet: the call itself goes to the cooling backend (with one backend, as before the pool).
    expect((await ask(w.pool, 'back?')).ok).toBe(true);
    expect(w.pool.snapshot()[0]!.state).toBe('up');
  });

  it('a caller abort frees the slot at once and is not counted as a backend error', async () => {
    w = await startPool([{ tokenDelayMs: 10 }], { slots: [1] });
    w.fakes[0]!.reply = () => words(200);
    const stop = new AbortController();
    const running = ask(w.pool, 'long', { signal: stop.signal });
    await until(() => w!.pool.snapshot()[0]!.inUse === 1 && w!.fakes[0]!.inFlight === 1, 'the call to run');
    const queued = new AbortController();
    const waiting = ask(w.pool, 'queued', { signal: queued.signal });
    await until(() => w!.pool.waiting === 1, 'the second call to wait');
    queued.abort();
    expect((await waiting).error?.kind).toBe('aborted');
    stop.abort();
    expect((await running).error?.kind).toBe('aborted');
    expect(w.pool.snapshot()[0]).toMatchObject({ inUse: 0, errors: {}, state: 'up' });
    expect(await metricValue(w.metrics, 'bot_backend_errors_total')).toBe(0);
    expect(await metricValue(w.metrics, 'bot_llm_errors_total')).toBe(0);
    w.fakes[0]!.reply = () => 'short';
    expect((await ask(w.pool, 'next')).ok).toBe(true);
  });

  it('snapshot() shows each backend without credentials, with slots, use, speed, calls and errors', async () => {
    w = await startPool([{ tokenDelayMs: 1 }]);
    w.fakes[0]!.failNext({ status: 500, path: '/api/chat' });
    expect((await ask(w.pool, 'x')).error?.kind).toBe('failed'); // one backend: nowhere else to go
    await until(() => w!.pool.snapshot()[0]!.state === 'up', 'the backend to be probed back in');
    await ask(w.pool, 'y');
    const [s] = w.pool.snapshot();
    expect(s).toMatchObject({ url: w.fakes[0]!.url, state: 'up', slots: 2, inUse: 0, calls: 2, errors: { failed: 1 }, models: [MODEL, `${EMBED}:latest`] });
    expect(s!.tokensPerSecond).toBeGreaterThan(0);
    const withPassword = new PoolMember(w.pool.snapshot as never, 'http://ops:hunter2@gpu-a:11434', 2, { minMs: 1, maxMs: 2 });
    expect(withPassword.snapshot(0).url).toBe('http://ops:***@gpu-a:11434');
  });
});
