/**
 * The one splitter: cuts a long reply into messages a platform accepts. It prefers a paragraph
 * break, then a line break, then a space in the second half of each window, and cuts hard only
 * when there is none. A piece's cut depends only on the text inside its window, so while an
 * answer streams (each text a prefix of the next) a piece that is full never changes: a sealed
 * message is never edited again. A piece cut inside a code fence closes it, and the next piece
 * reopens it with the same language.
 */

/** Smallest limit that leaves room for a reopened fence and its close. */
export const MIN_SPLIT_LIMIT = 64;

const SEPARATORS = ['\n\n', '\n', ' '];
const FENCE = /```([^\n`]*)/g;
const FENCE_CLOSE = '\n```';
/** Languages worth reopening a fence with; anything else reopens a bare fence. */
const LANGUAGE = /^[\w+#.-]{0,20}$/;

/** A piece that fills its message: the text after it goes on in the next one. */
export interface FullPiece {
  full: true;
  /** What the message shows (with a reopened and/or closed fence). */
  text: string;
  /** Where this piece's source text ends, from the start of the input. */
  end: number;
  /** The break dropped at the cut ('' for a hard cut). */
  separator: string;
  /** The fence left open at the cut (its opening line), for the next piece to reopen; null outside code. */
  fence: string | null;
}

/** The rest fits in one message. */
export interface LastPiece {
  full: false;
  text: string;
}

/**
 * The next piece of `rest` for messages of `limit` characters, `fence` being the code fence a
 * previous piece left open (null at the start of a text). Line breaks a previous cut left at the
 * start are skipped.
 */
export function nextPiece(rest: string, limit: number, fence: string | null): FullPiece | LastPiece {
  if (!(limit >= MIN_SPLIT_LIMIT)) throw new RangeError(`a message limit must be at least ${MIN_SPLIT_LIMIT} characters (got ${limit})`);
  const skip = rest.length - rest.replace(/^\n+/, '').length;
  const source = rest.slice(skip);
  if (source === '') return { full: false, text: '' };
  const open = fence ? `${fence}\n` : '';
  const room = limit - open.length;
  if (source.length <= room) return { full: false, text: open + source };
  let cut = cutAt(source, room);
  let after = fenceAfter(source.slice(0, cut.at), fence);
  // Inside a fence the piece must also hold the closing fence: cut again in a smaller window.
  if (after) {
    cut = cutAt(source, room - FENCE_CLOSE.length);
    after = fenceAfter(source.slice(0, cut.at), fence);
  }
  const body = source.slice(0, cut.at);
  return { full: true, text: open + body + (after ? FENCE_CLOSE : ''), end: skip + cut.at, separator: cut.separator, fence: after };
}

/**
 * A piece that must end early (its message can no longer grow): cut within the first `shown`
 * characters where the usual rules find a break, else the whole of `rest` goes in it (and a
 * space that starts the text after it is the break: the next message does not start with it).
 */
export function forcedPiece(rest: string, shown: number, fence: string | null): FullPiece {
  const piece = nextPiece(rest, Math.max(MIN_SPLIT_LIMIT, shown), fence);
  if (piece.full) return piece;
  const after = fenceAfter(rest, fence);
  return { full: true, text: piece.text + (after ? FENCE_CLOSE : ''), end: rest.length, separator: ' ', fence: after };
}

/** Every piece of `text` (a final text or a notice), continuing a fence left open if given. */
export function splitText(text: string, limit: number, fence: string | null = null): string[] {
  const pieces: string[] = [];
  let rest = text;
  let open = fence;
  for (;;) {
    const piece = nextPiece(rest, limit, open);
    if (!piece.full) {
      if (piece.text.trim() !== '' || pieces.length === 0) pieces.push(piece.text);
      return pieces;
    }
    pieces.push(piece.text);
    rest = rest.slice(piece.end + piece.separator.length);
    open = piece.fence;
  }
}

/**
 * Where to cut `source` for a piece of at most `room` characters. Only `source[0..room]` is read
 * (room + 1 characters, so a break right after a full window still counts): that is what keeps a
 * full piece stable while the text grows.
 */
function cutAt(source: string, room: number): { at: number; separator: string } {
  const window = source.slice(0, room + 1);
  const floor = Math.floor(room / 2);
  for (const separator of SEPARATORS) {
    const at = window.lastIndexOf(separator);
    if (at >= floor && at > 0 && at <= room) return { at, separator };
  }
  // No break in the second half: a hard cut, never between the halves of a surrogate pair.
  const code = source.charCodeAt(room - 1);
  return { at: code >= 0xd800 && code <= 0xdbff ? room - 1 : room, separator: '' };
}

/** The fence still open at the end of `text` (its opening line), given the one open at its start. */
function fenceAfter(text: string, open: string | null): string | null {
  let fence = open;
  for (const m of text.matchAll(FENCE)) {
    if (fence) fence = null;
    else fence = LANGUAGE.test(m[1] ?? '') ? `\`\`\`${m[1]}` : '```';
  }
  return fence;
}
