/**
 * Splits text into overlapping chunks along natural boundaries: paragraphs first, sentences
 * inside a paragraph too long for one chunk, and words only for a sentence longer than a
 * chunk. Consecutive chunks share up to `overlap` characters of whole units, so a passage cut
 * at a boundary still has its context on both sides.
 */

export interface ChunkOptions {
  /** Largest chunk, in characters. */
  maxChars: number;
  /** Characters of the previous chunk repeated at the start of the next one. */
  overlap: number;
}

export const defaultChunkOptions: ChunkOptions = { maxChars: 1000, overlap: 150 };

/** Collapses runs of spaces, trims lines and keeps paragraph breaks (blank lines). */
export function normaliseText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[\t\f\v\u00a0]+/g, ' ')
    .split('\n')
    .map((l) => l.replace(/ {2,}/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** A sentence ends with . ! ? (optionally followed by quotes/brackets) and whitespace. */
function sentences(paragraph: string): string[] {
  const parts = paragraph.match(/[^.!?]+(?:[.!?]+["')\]]*|$)\s*/g) ?? [paragraph];
  return parts.map((s) => s.trim()).filter(Boolean);
}

function words(sentence: string, maxChars: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const w of sentence.split(/\s+/)) {
    // A single "word" longer than a chunk (a URL, base64) is cut hard.
    for (let i = 0; i < w.length; i += maxChars) {
      const piece = w.slice(i, i + maxChars);
      if (cur && cur.length + 1 + piece.length > maxChars) {
        out.push(cur);
        cur = piece;
      } else cur = cur ? `${cur} ${piece}` : piece;
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** Units no longer than maxChars, each tagged with the separator that precedes it. */
function units(text: string, maxChars: number): { text: string; sep: string }[] {
  const out: { text: string; sep: string }[] = [];
  const paragraphs = text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  for (const p of paragraphs) {
    if (p.length <= maxChars) {
      out.push({ text: p, sep: '\n\n' });
      continue;
    }
    let first = true;
    for (const s of sentences(p)) {
      const pieces = s.length <= maxChars ? [s] : words(s, maxChars);
      for (const piece of pieces) {
        out.push({ text: piece, sep: first ? '\n\n' : ' ' });
        first = false;
      }
    }
  }
  return out;
}

export function chunkText(text: string, options: ChunkOptions = defaultChunkOptions): string[] {
  const { maxChars } = options;
  const overlap = Math.max(0, Math.min(options.overlap, Math.floor(maxChars / 2)));
  const us = units(normaliseText(text), maxChars);
  const chunks: string[] = [];
  let cur: { text: string; sep: string }[] = [];
  let len = 0;
  const joined = (list: { text: string; sep: string }[]) => list.map((u, i) => (i === 0 ? u.text : u.sep + u.text)).join('');
  let carried = 0; // how many units at the head of `cur` are overlap from the previous chunk
  for (const u of us) {
    const add = (cur.length ? u.sep.length : 0) + u.text.length;
    if (cur.length > carried && len + add > maxChars) {
      chunks.push(joined(cur));
      // Carry whole trailing units that fit in the overlap budget and leave room for `u`.
      const tail: { text: string; sep: string }[] = [];
      let tailLen = 0;
      for (let i = cur.length - 1; i >= 0; i--) {
        const t = cur[i]!;
        const tl = t.text.length + (tail.length ? tail[0]!.sep.length : 0);
        if (tailLen + tl > overlap || tailLen + tl + u.sep.length + u.text.length > maxChars) break;
        tail.unshift(t);
        tailLen += tl;
      }
      cur = tail;
      carried = tail.length;
      len = tailLen;
    }
    len += (cur.length ? u.sep.length : 0) + u.text.length;
    cur.push(u);
  }
  if (cur.length > carried) chunks.push(joined(cur));
  return chunks;
}
