/** The one splitter (src/core/reply/split.ts): where long replies are cut into messages. */
import { describe, expect, it } from 'vitest';
import { MIN_SPLIT_LIMIT, nextPiece, splitText } from '../src/core/reply/split.js';

const words = (n: number, prefix = 'w') => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(' ');
/** The text with fence lines and whitespace differences taken out: what must survive a split. */
const normalized = (s: string) => s.replace(/^```[\w+#.-]*$/gm, ' ').replace(/\s+/g, ' ').trim();

describe('splitText', () => {
  it('keeps a text that fits whole', () => {
    expect(splitText('hello there', 100)).toEqual(['hello there']);
  });

  it('cuts at a paragraph break before a line break, and a line break before a space', () => {
    const para = `${'a'.repeat(40)}\n\n${'b'.repeat(20)}\n${'c'.repeat(10)} ${'d'.repeat(30)}`;
    expect(splitText(para, 80)).toEqual(['a'.repeat(40), `${'b'.repeat(20)}\n${'c'.repeat(10)} ${'d'.repeat(30)}`]);
    const lines = `${'a'.repeat(40)}\n${'b'.repeat(20)} ${'c'.repeat(30)}`;
    expect(splitText(lines, 70)).toEqual(['a'.repeat(40), `${'b'.repeat(20)} ${'c'.repeat(30)}`]);
  });

  it('never exceeds the limit and loses no words', () => {
    const text = Array.from({ length: 400 }, (_, i) => (i % 13 === 0 ? `line${i}\n` : `w${i}`)).join(' ');
    const pieces = splitText(text, 100);
    expect(pieces.length).toBeGreaterThan(10);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(100);
    expect(pieces.join(' ').split(/\s+/)).toEqual(text.split(/\s+/));
  });

  it('cuts hard only when the second half of a window has no break, and never inside a surrogate pair', () => {
    expect(splitText('x'.repeat(150), 64)).toEqual(['x'.repeat(64), 'x'.repeat(64), 'x'.repeat(22)]);
    const emoji = 'x'.repeat(63) + '😀' + 'y'.repeat(10);
    const [first, second] = splitText(emoji, 64);
    expect(first).toBe('x'.repeat(63));
    expect(second).toBe('😀' + 'y'.repeat(10));
  });

  it('closes a code fence at a cut and reopens it, with its language, in the next piece', () => {
    const code = Array.from({ length: 30 }, (_, i) => `    line ${i}`).join('\n');
    const text = `Intro.\n\n\`\`\`python\n${code}\n\`\`\`\n\nAfter.`;
    const pieces = splitText(text, 120);
    expect(pieces.length).toBeGreaterThan(3);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(120);
      expect((p.match(/```/g) ?? []).length % 2).toBe(0);
    }
    expect(pieces[1]!.startsWith('```python\n')).toBe(true);
    // Indentation inside the code survives the cuts.
    expect(pieces[2]).toMatch(/^```python\n {4}line \d+/);
    expect(normalized(pieces.join('\n'))).toBe(normalized(text));
  });

  it('keeps every full piece unchanged while the text grows (a sealed message is never edited)', () => {
    const full = Array.from({ length: 60 }, (_, i) => (i % 7 === 6 ? `${words(12, `p${i}-`)}\n\n` : words(9, `s${i}-`))).join(' ');
    const seen: string[] = [];
    for (let n = 1; n <= full.length; n += 37) {
      const pieces = splitText(full.slice(0, n), 200);
      // Every piece but the last is full: it must be what it was the first time it was full.
      pieces.slice(0, -1).forEach((p, i) => {
        seen[i] ??= p;
        expect(p).toBe(seen[i]);
      });
    }
    expect(seen.length).toBeGreaterThan(5);
  });

  it('refuses a limit too small to hold a reopened fence', () => {
    expect(() => splitText('text', MIN_SPLIT_LIMIT - 1)).toThrow(RangeError);
    expect(splitText('text', Number.POSITIVE_INFINITY)).toEqual(['text']);
  });
});

describe('nextPiece', () => {
  it('says where a full piece ends, so the rest can be split on its own with the same result', () => {
    const text = `${words(30)}\n\n\`\`\`ts\n${words(40, 'code')}\n\`\`\`\n${words(20, 'tail')}`;
    const first = nextPiece(text, 100, null);
    expect(first.full).toBe(true);
    if (!first.full) return;
    const rest = text.slice(first.end + first.separator.length);
    expect([first.text, ...splitText(rest, 100, first.fence)]).toEqual(splitText(text, 100));
  });

  it('skips the line breaks a cut left at the start of the rest', () => {
    expect(nextPiece('\n\nnext words', 100, null)).toEqual({ full: false, text: 'next words' });
    expect(nextPiece('\n', 100, '```ts')).toEqual({ full: false, text: '' });
  });
});
