/** Discord refuses message content longer than this (400, code 50035). */
export const DISCORD_MESSAGE_LIMIT = 2000;

/**
 * Splits text into pieces of at most `limit` characters, preferring a line break, then a space,
 * in the second half of each window. The cut of a piece depends only on the text inside its
 * window, so while an answer streams (each text a prefix of the next) pieces already full never
 * change: a sealed message is not edited again.
 */
export function splitMessage(text: string, limit = DISCORD_MESSAGE_LIMIT): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit + 1);
    let cut = window.lastIndexOf('\n');
    if (cut < limit / 2) cut = window.lastIndexOf(' ');
    // A cut at a separator drops the separator; a hard cut keeps every character.
    const atSeparator = cut >= limit / 2;
    if (!atSeparator) cut = limit;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(atSeparator ? cut + 1 : cut);
  }
  pieces.push(rest);
  return pieces;
}
