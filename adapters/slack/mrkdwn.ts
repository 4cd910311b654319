/**
 * Markdown (what the model writes) to Slack mrkdwn (what chat.postMessage/chat.update render),
 * and splitting long answers into messages Slack accepts. Code (fenced and inline) is kept as
 * is apart from the &, <, > escaping Slack requires everywhere.
 */

export const escapeSlack = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function convertProse(text: string): string {
  const bold: string[] = [];
  let s = escapeSlack(text);
  // Links and images first, so their brackets are not read as emphasis.
  s = s.replace(/!?\[([^\]\n]+)\]\((\S+?)\)/g, (_m, label: string, url: string) => `<${url}|${label}>`);
  s = s.replace(/^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm, (_m, h: string) => hold(bold, h.replace(/\*\*/g, '')));
  s = s.replace(/^([ \t]*)[-*+][ \t]+/gm, '$1• ');
  s = s.replace(/\*\*(?=\S)([^\n]+?)(?<=\S)\*\*/g, (_m, b: string) => hold(bold, b));
  s = s.replace(/__(?=\S)([^\n]+?)(?<=\S)__/g, (_m, b: string) => hold(bold, b));
  s = s.replace(/(^|[^*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?!\w)/g, (_m, pre: string, i: string) => `${pre}_${i}_`);
  s = s.replace(/~~(?=\S)([^\n]+?)(?<=\S)~~/g, '~$1~');
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u0001(\d+)\u0001/g, (_m, n: string) => `*${bold[Number(n)]}*`);
}

function hold(store: string[], text: string): string {
  store.push(text);
  return `\u0001${store.length - 1}\u0001`;
}

function convertOutsideInlineCode(text: string): string {
  return text
    .split(/(`[^`\n]+`)/g)
    .map((piece, i) => (i % 2 === 1 ? escapeSlack(piece) : convertProse(piece)))
    .join('');
}

export function markdownToMrkdwn(markdown: string): string {
  // Odd pieces are fenced blocks; the language tag is dropped (Slack would show it as text).
  return markdown
    .split(/(```[^\n`]*\n[\s\S]*?```)/g)
    .map((piece, i) => {
      if (i % 2 === 0) return convertOutsideInlineCode(piece);
      const body = piece.replace(/^```[^\n`]*\n/, '').replace(/```$/, '');
      return '```\n' + escapeSlack(body) + '```';
    })
    .join('');
}

const fenceCount = (s: string) => (s.match(/```/g) ?? []).length;

/**
 * Splits `text` into parts of at most `limit` characters, preferring paragraph, line and word
 * breaks. A part that cuts through a code fence closes it and the next part reopens it.
 * `firstMin` forces the first cut at or after that index (text already streamed into the first
 * message cannot be moved out of it).
 */
export function splitMessage(text: string, limit: number, firstMin = 0): string[] {
  const parts: string[] = [];
  let rest = text;
  let min = Math.min(firstMin, limit);
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    const floor = Math.max(min, Math.floor(limit / 2));
    let cut = -1;
    for (const sep of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(sep);
      if (at >= floor && at > 0) {
        cut = at + sep.length;
        break;
      }
    }
    if (cut <= 0) cut = Math.max(limit, min);
    let part = rest.slice(0, cut);
    rest = rest.slice(cut);
    if (fenceCount(part) % 2 === 1) {
      part = part.replace(/\s*$/, '') + '\n```';
      rest = '```\n' + rest;
    }
    parts.push(part.replace(/\s+$/, ''));
    min = 0;
  }
  if (rest.trim().length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}
