import { describe, expect, it } from 'vitest';
import { ThrottledReply } from '../src/core/reply-stream.js';
import { RecordingSink } from './helpers/core.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ThrottledReply', () => {
  it('coalesces a burst into few edits, always the newest text, final last', async () => {
    const sink = new RecordingSink(40);
    const s = new ThrottledReply(sink);
    let text = '';
    for (let i = 0; i < 50; i++) {
      text += ` w${i}`;
      s.push(text);
      if (i % 10 === 9) await tick(15);
    }
    await s.finish(`${text} [done]`);
    expect(sink.updates.length).toBeGreaterThan(0);
    expect(sink.updates.length).toBeLessThan(10);
    for (let i = 1; i < sink.updates.length; i++) expect(sink.updates[i]!.startsWith(sink.updates[i - 1]!)).toBe(true);
    expect(sink.final).toBe(`${text} [done]`);
    const updatesAtFinish = sink.updates.length;
    await tick(60);
    expect(sink.updates.length).toBe(updatesAtFinish);
  });

  it('a failing progress edit does not lose the final answer', async () => {
    const sink = new RecordingSink(1);
    sink.update = async () => {
      throw new Error('ratelimited');
    };
    const s = new ThrottledReply(sink);
    s.push('partial');
    await tick(10);
    await s.finish('complete');
    expect(sink.final).toBe('complete');
  });
});
