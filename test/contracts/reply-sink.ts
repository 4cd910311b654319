/**
 * The ReplySink contract: what every platform sink must do when the core's ReplyStream drives
 * it, judged by what a user sees on the (fake) platform. Call replySinkContract(descriptor) from
 * a sink's test file; the descriptor builds a sink against the fake and reads back the messages.
 */
import { describe, expect, it } from 'vitest';
import { ReplyStream } from '../../src/core/reply/stream.js';
import { splitText } from '../../src/core/reply/split.js';
import type { ReplySink } from '../../src/ports/reply.js';

/** What the user sees of one reply, oldest message first (a working indicator counts, with its own text). */
export interface SeenReply {
  /** Messages everyone in the channel sees. */
  public: string[];
  /** Messages only the caller sees. */
  private: string[];
}

export interface ReplySinkHarness {
  sink: ReplySink;
  seen(): SeenReply | Promise<SeenReply>;
}

export interface ReplySinkDescriptor {
  name: string;
  /** A sink for a fresh reply (its own thread or interaction) against the fake platform. */
  create(): Promise<ReplySinkHarness>;
  /** False where a reply cannot be kept from the channel (a Discord reply to a message): that check is skipped. */
  privateNotices: boolean;
  /** False where shown text cannot be taken back (a terminal): checks then look at the last message only. */
  retractable: boolean;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
const all = (s: SeenReply) => [...s.public, ...s.private];
/** Text as a reader compares it: fence lines out, whitespace runs as one space. */
const normalized = (s: string) => s.replace(/^```[\w+#.-]*$/gm, ' ').replace(/\s+/g, ' ').trim();

/** Paragraphs of plain words (no Markdown a platform would render differently), about `chars` long. */
function prose(chars: number, tag: string): string {
  const paragraphs: string[] = [];
  for (let p = 0, length = 0; length < chars; p++) {
    const paragraph = Array.from({ length: 9 + (p % 5) }, (_, i) => `${tag}${p}w${i}`).join(' ') + '.';
    paragraphs.push(paragraph);
    length += paragraph.length + 2;
  }
  return paragraphs.join('\n\n');
}

export function replySinkContract(d: ReplySinkDescriptor): void {
  describe(`ReplySink contract: ${d.name}`, () => {
    async function open() {
      const h = await d.create();
      const reply = new ReplyStream(h.sink);
      const { maxChars, minUpdateIntervalMs } = h.sink.limits;
      /** Lets the stream's next write go out (one platform interval, and then some). */
      const settle = () => tick(minUpdateIntervalMs + 150);
      return { h, reply, maxChars, settle };
    }

    /** The final text is what the user reads at the end (on a terminal: what was printed last). */
    async function expectOnly(h: ReplySinkHarness, texts: string[]) {
      const seen = all(await h.seen());
      if (d.retractable) expect(seen).toEqual(texts);
      else expect(seen.slice(-texts.length).map((s, i) => s.endsWith(texts[i]!))).toEqual(texts.map(() => true));
    }

    it('start() puts up at most one working indicator, and the answer takes its place', async () => {
      const { h, reply } = await open();
      await Promise.all([reply.start(), reply.start()]);
      await reply.start();
      expect(all(await h.seen()).length).toBeLessThanOrEqual(1);
      await reply.finish('Here is the answer.');
      await expectOnly(h, ['Here is the answer.']);
    });

    it('never writes an update after finish', async () => {
      const { h, reply, settle } = await open();
      await reply.start();
      reply.update('Partial answer');
      await settle();
      await reply.finish('Final answer.');
      reply.update('Final answer. LATE');
      reply.update('Final answer. LATE again');
      await settle();
      await expectOnly(h, ['Final answer.']);
      expect(all(await h.seen()).join('\n')).not.toContain('LATE');
    });

    it('finishes exactly once: a second finish changes nothing', async () => {
      const { h, reply } = await open();
      await reply.start();
      await Promise.all([reply.finish('First.'), reply.finish('Second.', { kind: 'error' })]);
      await reply.finish('Third.', { kind: 'notice', ephemeral: true });
      await expectOnly(h, ['First.']);
    });

    it('leaves no stale text when the final answer is shorter than what streamed', async () => {
      const { h, reply, settle } = await open();
      await reply.start();
      reply.update('The answer begins with several words that will not stay');
      await settle();
      await reply.finish('Sorry, that failed.', { kind: 'error' });
      await expectOnly(h, ['Sorry, that failed.']);
    });

    it('splits a long streamed answer within the limit, never edits a full message again, and loses nothing', async (ctx) => {
      const { h, reply, maxChars, settle } = await open();
      if (!Number.isFinite(maxChars)) ctx.skip();
      const text = prose(maxChars * 2.6, 'long');
      await reply.start();
      const snapshots: string[][] = [];
      for (let step = 1; step <= 4; step++) {
        reply.update(text.slice(0, Math.round((text.length * step) / 5)));
        await settle();
        snapshots.push(all(await h.seen()));
      }
      await reply.finish(text);
      const final = all(await h.seen());
      snapshots.push(final);
      // A message followed by another is full: it must read the same in every later snapshot.
      snapshots.forEach((snap, i) => {
        snap.slice(0, -1).forEach((message, m) => {
          for (const later of snapshots.slice(i + 1)) expect(later[m]).toBe(message);
        });
      });
      expect(final.length).toBeGreaterThanOrEqual(3);
      for (const message of final) expect(message.length).toBeLessThanOrEqual(maxChars);
      expect(normalized(final.join('\n\n'))).toBe(normalized(text));
    });

    it('closes a code fence cut between messages and reopens it in the next', async (ctx) => {
      const { h, reply, maxChars } = await open();
      if (!Number.isFinite(maxChars)) ctx.skip();
      const lines = Math.ceil((maxChars * 1.8) / 14);
      const text = `Here is the script:\n\n\`\`\`\n${Array.from({ length: lines }, (_, i) => `echo step ${i}`).join('\n')}\n\`\`\`\n\nRun it once.`;
      await reply.finish(text);
      const final = all(await h.seen());
      expect(final.length).toBeGreaterThanOrEqual(2);
      for (const message of final) {
        expect(message.length).toBeLessThanOrEqual(maxChars);
        expect((message.match(/```/g) ?? []).length % 2).toBe(0);
      }
      expect(normalized(final.join('\n'))).toBe(normalized(text));
    });

    it('takes back messages a shorter final answer no longer reaches', async (ctx) => {
      const { h, reply, maxChars, settle } = await open();
      if (!Number.isFinite(maxChars) || !d.retractable) ctx.skip();
      const text = prose(maxChars * 1.5, 'two');
      await reply.start();
      reply.update(text);
      await settle();
      const [first] = splitText(text, maxChars);
      await reply.finish(first!);
      await expectOnly(h, [first!]);
    });

    it('keeps a private notice out of the channel, with the working indicator taken down', async (ctx) => {
      if (!d.privateNotices) ctx.skip();
      const { h, reply } = await open();
      await reply.start();
      await reply.finish('Only admins can do that.', { kind: 'notice', ephemeral: true });
      const seen = await h.seen();
      expect(seen.public).toEqual([]);
      expect(seen.private).toEqual(['Only admins can do that.']);
    });

    it('takes public partial text down when the reply turns out private', async (ctx) => {
      if (!d.privateNotices) ctx.skip();
      const { h, reply, settle } = await open();
      await reply.start();
      reply.update('Some public progress');
      await settle();
      await reply.finish('That is not allowed here.', { kind: 'notice', ephemeral: true });
      const seen = await h.seen();
      expect(seen.public).toEqual([]);
      expect(seen.private).toEqual(['That is not allowed here.']);
    });
  });
}
