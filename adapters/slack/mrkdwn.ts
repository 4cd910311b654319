/**
 * Markdown (what the model writes) to Slack mrkdwn (what chat.postMessage/chat.update render).
 * Code (fenced and inline) is kept as is apart from the &, <, > escaping Slack requires
 * everywhere. Splitting long replies is the core's (src/core/reply/split.ts).
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
