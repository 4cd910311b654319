/** The console's ReplySink (adapters/console/console-sink.ts) writing to a stream, as a terminal shows it. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ReplyStream } from '../src/core/reply/stream.js';
import { ConsoleReplySink } from '../adapters/console/console-sink.js';
import { replySinkContract, type ReplySinkHarness } from './contracts/reply-sink.js';

function terminal() {
  let printed = '';
  const out = new Writable({ write: (chunk, _e, cb) => ((printed += String(chunk)), cb()) });
  return { out, printed: () => printed };
}

/** A terminal has one reader: every line is the caller's, and printed text stays. */
async function consoleHarness(): Promise<ReplySinkHarness> {
  const t = terminal();
  return { sink: new ConsoleReplySink(t.out, { stream: true }), seen: () => ({ public: t.printed().split('\n').filter((l) => l !== ''), private: [] }) };
}

replySinkContract({ name: 'console', create: consoleHarness, privateNotices: false, retractable: false });

describe('ConsoleReplySink', () => {
  it('prints only the new tail as an answer grows, and ends it with a newline', async () => {
    const t = terminal();
    const reply = new ReplyStream(new ConsoleReplySink(t.out, { stream: true, minUpdateIntervalMs: 1 }));
    reply.update('Hello');
    await new Promise((r) => setTimeout(r, 20));
    reply.update('Hello wor');
    await new Promise((r) => setTimeout(r, 20));
    await reply.finish('Hello world.\n\nSecond paragraph.');
    expect(t.printed()).toBe('Hello world.\n\nSecond paragraph.\n');
  });

  it('prints each message once when not streaming (piped output), errors marked', async () => {
    const t = terminal();
    const reply = new ReplyStream(new ConsoleReplySink(t.out, { stream: false, minUpdateIntervalMs: 1 }));
    reply.update('partial');
    await new Promise((r) => setTimeout(r, 20));
    await reply.finish('The model is unavailable.', { kind: 'error' });
    expect(t.printed()).toBe('[error] The model is unavailable.\n');
  });
});
