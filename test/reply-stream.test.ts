/** The core's ReplyStream (src/core/reply/stream.ts) over an in-memory sink that records every call. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ReplyStream } from '../src/core/reply/stream.js';
import { splitText } from '../src/core/reply/split.js';
import { createLogger } from '../src/logger.js';
import { ReplyPartExpired, ReplyRateLimited, type NoticeOptions, type ReplyKind, type ReplyPart, type ReplySink } from '../src/ports/reply.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records calls as lines ("open 0: text"); `hold()` keeps the next calls in flight until `letGo()`. */
class CallLog implements ReplySink {
  readonly calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  failUpdates: (() => Error) | null = null;
  failFinal = false;
  private gate: Promise<void> | null = null;
  private release: (() => void) | null = null;

  constructor(readonly limits = { maxChars: 1000, minUpdateIntervalMs: 5 }) {}

  hold(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  letGo(): void {
    this.gate = null;
    this.release?.();
  }
  of(prefix: string): string[] {
    return this.calls.filter((c) => c.startsWith(prefix));
  }

  async working() {
    await this.call('working');
  }
  async open(index: number, text: string): Promise<ReplyPart> {
    await this.call(`open ${index}: ${text}`, this.failUpdates);
    return {
      update: (t) => this.call(`update ${index}: ${t}`, this.failUpdates),
      close: (t, kind: ReplyKind) => this.call(`close ${index} ${kind}: ${t}`, this.failFinal ? () => new Error('final refused') : null),
      remove: () => this.call(`remove ${index}`),
    };
  }
  async notice(text: string, o: NoticeOptions) {
    await this.call(`notice ${o.private ? 'private' : 'public'} ${o.kind}: ${text}`, this.failFinal ? () => new Error('final refused') : null);
  }

  private async call(line: string, fail: (() => Error) | null = null): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate;
      if (fail) throw fail();
      this.calls.push(line);
    } finally {
      this.inFlight--;
    }
  }
}

/** A logger whose lines the test can read (to check that no message text is logged). */
function capturedLogger() {
  const lines: string[] = [];
  const out = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  return { logger: createLogger('debug', out), lines };
}

describe('ReplyStream', () => {
  it('coalesces a burst into few writes, always the newest text, with the final text last', async () => {
    const sink = new CallLog({ maxChars: 10_000, minUpdateIntervalMs: 40 });
    const reply = new ReplyStream(sink);
    let text = '';
    for (let i = 0; i < 50; i++) {
      text += ` w${i}`;
      reply.update(text);
      if (i % 10 === 9) await tick(15);
    }
    await reply.finish(`${text} [done]`);
    const progress = sink.calls.filter((c) => c.startsWith('open') || c.startsWith('update')).map((c) => c.replace(/^\w+ 0: /, ''));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.length).toBeLessThan(10);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.startsWith(progress[i - 1]!)).toBe(true);
    expect(sink.calls.at(-1)).toBe(`close 0 answer: ${text.trim()} [done]`);
  });

  it('keeps at most one platform call in flight, and writes only the newest text after a slow one', async () => {
    const sink = new CallLog({ maxChars: 1000, minUpdateIntervalMs: 1 });
    const reply = new ReplyStream(sink);
    sink.hold();
    reply.update('a');
    await tick(10);
    for (const t of ['ab', 'abc', 'abcd']) reply.update(t);
    await tick(10);
    sink.letGo();
    await tick(20);
    await reply.finish('abcde');
    expect(sink.maxInFlight).toBe(1);
    expect(sink.calls).toEqual(['open 0: a', 'update 0: abcd', 'close 0 answer: abcde']);
  });

  it('calls working() at most once however often start() is called', async () => {
    const sink = new CallLog();
    const reply = new ReplyStream(sink);
    await Promise.all([reply.start(), reply.start()]);
    await reply.start();
    await reply.finish('done');
    await reply.start();
    expect(sink.of('working')).toHaveLength(1);
  });

  it('finishes exactly once: a second finish settles like the first and writes nothing', async () => {
    const sink = new CallLog();
    const reply = new ReplyStream(sink);
    await Promise.all([reply.finish('first'), reply.finish('second', { kind: 'error' })]);
    await reply.finish('third');
    expect(sink.calls).toEqual(['open 0: first', 'close 0 answer: first']);

    const failing = new CallLog();
    failing.failFinal = true;
    const refused = new ReplyStream(failing);
    await expect(refused.finish('lost', { kind: 'notice' })).rejects.toThrow('final refused');
    // The engine learns the reply did not go out, also when it asks again.
    await expect(refused.finish('error text', { kind: 'error' })).rejects.toThrow('final refused');
  });

  it('drops pending progress and later updates once finish() is called', async () => {
    const sink = new CallLog({ maxChars: 1000, minUpdateIntervalMs: 30 });
    const reply = new ReplyStream(sink);
    reply.update('one');
    await tick(5);
    reply.update('one two');
    const finished = reply.finish('final');
    reply.update('final and late');
    await finished;
    await tick(60);
    expect(sink.calls).toEqual(['open 0: one', 'close 0 answer: final']);
  });

  it('keeps the answer when progress fails, and logs the failure without the text', async () => {
    const { logger, lines } = capturedLogger();
    const sink = new CallLog();
    sink.failUpdates = () => new Error('edit refused');
    const reply = new ReplyStream(sink, logger);
    reply.update('secret partial');
    await tick(20);
    reply.update('secret partial and more');
    await tick(20);
    sink.failUpdates = null;
    await reply.finish('secret final');
    expect(sink.calls).toEqual(['open 0: secret final', 'close 0 answer: secret final']);
    const warned = lines.filter((l) => l.includes('reply progress update failed'));
    expect(warned).toHaveLength(1);
    expect(lines.join('')).not.toContain('secret');
  });

  it("waits out a platform's Retry-After before the next progress write", async () => {
    const sink = new CallLog();
    const reply = new ReplyStream(sink);
    reply.update('first');
    await tick(20);
    sink.failUpdates = () => new ReplyRateLimited(60_000);
    reply.update('first second');
    await tick(20);
    sink.failUpdates = null;
    for (const t of ['first second third', 'first second third fourth']) {
      reply.update(t);
      await tick(20);
    }
    await reply.finish('first second third fourth.');
    expect(sink.calls).toEqual(['open 0: first', 'close 0 answer: first second third fourth.']);
  });

  it('turns text past the limit into parts: a full part is closed once and never touched again', async () => {
    const sink = new CallLog({ maxChars: 100, minUpdateIntervalMs: 1 });
    const reply = new ReplyStream(sink);
    const full = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    for (let n = 20; n < full.length; n += 23) {
      reply.update(full.slice(0, n));
      await tick(5);
    }
    await reply.finish(full);
    const pieces = splitText(full, 100);
    expect(pieces.length).toBeGreaterThan(3);
    pieces.forEach((piece, i) => {
      const calls = sink.calls.filter((c) => new RegExp(`^\\w+ ${i}[ :]`).test(c));
      // Each part's last call is its close with its piece, and nothing follows the close.
      expect(calls.filter((c) => c.startsWith('close'))).toEqual([`close ${i} answer: ${piece}`]);
      expect(calls.at(-1)).toBe(`close ${i} answer: ${piece}`);
    });
    expect(sink.of('remove')).toEqual([]);
  });

  it('removes the live part a shorter final text does not reach', async () => {
    const sink = new CallLog({ maxChars: 100, minUpdateIntervalMs: 1 });
    const reply = new ReplyStream(sink);
    const streamed = `${'alpha '.repeat(15).trim()}\n\n${'beta '.repeat(10).trim()}`;
    reply.update(streamed);
    await tick(20);
    expect(sink.of('open')).toHaveLength(2);
    const [first] = splitText(streamed, 100);
    await reply.finish(first!);
    expect(sink.calls.slice(-1)).toEqual(['remove 1']);
    expect(sink.of('close')).toEqual([`close 0 answer: ${first}`]);
  });

  it('puts a final text that does not continue the sealed parts after them', async () => {
    const sink = new CallLog({ maxChars: 100, minUpdateIntervalMs: 1 });
    const reply = new ReplyStream(sink);
    reply.update(`${'alpha '.repeat(15).trim()}\n\n${'beta '.repeat(10).trim()}`);
    await tick(20);
    await reply.finish('The model stopped answering.', { kind: 'error' });
    expect(sink.of('close')).toEqual([`close 0 answer: ${'alpha '.repeat(15).trim()}`, 'close 1 error: The model stopped answering.']);
  });

  it('sends a notice with nothing streamed as notices, split within the limit', async () => {
    const sink = new CallLog({ maxChars: 100, minUpdateIntervalMs: 1 });
    const reply = new ReplyStream(sink);
    await reply.start();
    const long = Array.from({ length: 40 }, (_, i) => `item${i}`).join('\n');
    await reply.finish(long, { kind: 'notice' });
    const notices = sink.of('notice');
    expect(notices.length).toBeGreaterThan(1);
    expect(notices.map((n) => n.replace('notice public notice: ', '')).join('\n')).toBe(long);
    expect(sink.of('open')).toEqual([]);
  });

  it('takes streamed text down and sends a private finish as a private notice', async () => {
    const sink = new CallLog();
    const reply = new ReplyStream(sink);
    reply.update('partial');
    await tick(20);
    await reply.finish('Only admins can do that.', { kind: 'notice', ephemeral: true });
    expect(sink.calls).toEqual(['open 0: partial', 'remove 0', 'notice private notice: Only admins can do that.']);
  });

  it('replaces streamed text with a public error in the same message', async () => {
    const sink = new CallLog();
    const reply = new ReplyStream(sink);
    reply.update('The answer is');
    await tick(20);
    await reply.finish('Sorry, the model is unavailable.', { kind: 'error' });
    expect(sink.calls).toEqual(['open 0: The answer is', 'close 0 error: Sorry, the model is unavailable.']);
  });
});

/** A CallLog with a status line (or none), an age limit on parts, and parts that expire on demand. */
class StatusLog extends CallLog {
  statusShown: boolean | 'throws' = true;
  expireUpdatesOf = new Set<number>();
  constructor(limits: { maxChars: number; minUpdateIntervalMs: number; maxPartAgeMs?: number }) {
    super(limits);
  }
  async status(text: string | null): Promise<boolean> {
    if (this.statusShown === 'throws') throw new Error('status refused');
    this.calls.push(`status: ${text}`);
    return this.statusShown;
  }
  override async open(index: number, text: string): Promise<ReplyPart> {
    const part = await super.open(index, text);
    return {
      ...part,
      update: async (t) => {
        if (this.expireUpdatesOf.has(index)) throw new ReplyPartExpired('message_not_in_streaming_state');
        await part.update(t);
      },
    };
  }
}

describe('ReplyStream status and parts that cannot grow any more', () => {
  it('shows the status where the sink has one, and the working indicator where it has none or refuses', async () => {
    const withStatus = new StatusLog({ maxChars: 1000, minUpdateIntervalMs: 1 });
    const a = new ReplyStream(withStatus);
    await a.status('Waiting for a free slot…');
    await a.status('Thinking…');
    a.update('Hello');
    await tick(20);
    await a.finish('Hello there');
    expect(withStatus.calls).toEqual(['status: Waiting for a free slot…', 'status: Thinking…', 'open 0: Hello', 'close 0 answer: Hello there']);

    for (const shown of [false, 'throws'] as const) {
      const sink = new StatusLog({ maxChars: 1000, minUpdateIntervalMs: 1 });
      sink.statusShown = shown;
      const b = new ReplyStream(sink);
      await b.status('Thinking…');
      await b.status('Thinking…');
      await b.finish('Done');
      expect(sink.of('working')).toEqual(['working']);
    }
  });

  it('ignores a status once text began, and clears a shown status when the reply turns out private', async () => {
    const sink = new StatusLog({ maxChars: 1000, minUpdateIntervalMs: 1 });
    const a = new ReplyStream(sink);
    a.update('Some text');
    await a.status('Thinking…');
    await a.finish('Some text');
    expect(sink.of('status')).toEqual([]);

    const quiet = new StatusLog({ maxChars: 1000, minUpdateIntervalMs: 1 });
    const b = new ReplyStream(quiet);
    await b.status('Thinking…');
    await b.finish('Only you can see this', { kind: 'notice', ephemeral: true });
    expect(quiet.calls).toEqual(['status: Thinking…', 'status: null', 'notice private notice: Only you can see this']);
  });

  it('a part older than maxPartAgeMs is closed with what it shows and the answer goes on in a new part; nothing is lost', async () => {
    let now = 0;
    const sink = new StatusLog({ maxChars: 1000, minUpdateIntervalMs: 1, maxPartAgeMs: 1000 });
    const reply = new ReplyStream(sink, undefined, () => now);
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`);
    let text = '';
    for (const [i, w] of words.entries()) {
      text += `${text ? ' ' : ''}${w}`;
      reply.update(text);
      await tick(3);
      if (i === 14) now += 1500;
    }
    await reply.finish(text);
    const closes = sink.of('close').map((c) => c.replace(/^close \d+ answer: /, ''));
    expect(closes.length).toBe(2);
    expect(closes.join(' ').split(' ')).toEqual(words);
    expect(sink.of('open').map((c) => c.split(':')[0])).toEqual(['open 0', 'open 1']);
  });

  it('a part the platform stops taking text for (ReplyPartExpired) rolls over the same way', async () => {
    const sink = new StatusLog({ maxChars: 1000, minUpdateIntervalMs: 1 });
    const reply = new ReplyStream(sink);
    const words = Array.from({ length: 20 }, (_, i) => `x${i}`);
    let text = '';
    for (const [i, w] of words.entries()) {
      text += `${text ? ' ' : ''}${w}`;
      reply.update(text);
      await tick(3);
      if (i === 8) sink.expireUpdatesOf.add(0);
    }
    await reply.finish(text);
    const closes = sink.of('close').map((c) => c.replace(/^close \d+ answer: /, ''));
    expect(closes.length).toBe(2);
    expect(closes.join(' ').split(' ')).toEqual(words);
  });
});
