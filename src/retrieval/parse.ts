/**
 * Turns an attached file into plain text: .txt (and other text/*), .md, .html and .pdf.
 * The PDF and HTML parsers are loaded on first use so start-up stays light.
 */
import { extname } from 'node:path';
import { BotError, ErrorCode } from '../ports/errors.js';

export type FileKind = 'text' | 'markdown' | 'html' | 'pdf';

export const supportedExtensions = ['.txt', '.text', '.md', '.markdown', '.html', '.htm', '.pdf'] as const;

const byExtension: Record<string, FileKind> = {
  '.txt': 'text',
  '.text': 'text',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.pdf': 'pdf',
};

/** Which parser fits, from the file name first (platforms often send a vague MIME type). */
export function fileKind(filename: string, mimeType = ''): FileKind | undefined {
  const kind = byExtension[extname(filename).toLowerCase()];
  if (kind) return kind;
  const mime = mimeType.toLowerCase().split(';')[0]!.trim();
  if (mime === 'application/pdf') return 'pdf';
  if (mime === 'text/html' || mime === 'application/xhtml+xml') return 'html';
  if (mime === 'text/markdown' || mime === 'text/x-markdown') return 'markdown';
  if (mime.startsWith('text/')) return 'text';
  return undefined;
}

export async function parseFile(file: { filename: string; mimeType: string; data: Buffer }): Promise<string> {
  const kind = fileKind(file.filename, file.mimeType);
  if (!kind) {
    throw new BotError(
      ErrorCode.FileUnsupported,
      `I can't read "${file.filename}": supported files are plain text, Markdown, HTML and PDF (${supportedExtensions.join(', ')}).`,
    );
  }
  try {
    switch (kind) {
      case 'pdf':
        return await pdfToText(file.data);
      case 'html':
        return await htmlToText(decodeText(file.data, file.filename));
      case 'markdown':
        return markdownToText(decodeText(file.data, file.filename));
      case 'text':
        return decodeText(file.data, file.filename);
    }
  } catch (err) {
    if (err instanceof BotError) throw err;
    throw new BotError(ErrorCode.FileUnreadable, `I couldn't read "${file.filename}": it looks damaged or is not really a ${kind.toUpperCase()} file.`);
  }
}

function decodeText(data: Buffer, filename: string): string {
  // A NUL byte in the first few KB means this is binary, whatever the name says.
  if (data.subarray(0, 8192).includes(0)) throw new BotError(ErrorCode.FileUnsupported, `"${filename}" looks like a binary file, not text.`);
  return data.toString('utf8').replace(/^\uFEFF/, '');
}

/** Keeps the words of Markdown and drops the syntax that would only add noise to embeddings. */
export function markdownToText(md: string): string {
  return md
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/^\s*(```|~~~).*$/gm, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/^\s{0,3}#{1,6}\s+/gm, '')
    .replace(/^\s{0,3}>\s?/gm, '')
    .replace(/^\s*([-*+]|\d+[.)])\s+/gm, '- ')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/`([^`]+)`/g, '$1')
    .replace(/^\s*([-*_]\s*){3,}$/gm, '');
}

export async function htmlToText(html: string): Promise<string> {
  const { convert } = await import('html-to-text');
  const plainHeading = { options: { uppercase: false } };
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'nav', format: 'skip' },
      ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, ...plainHeading })),
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ],
  });
}

export async function pdfToText(data: Buffer): Promise<string> {
  // The legacy build runs on Node 20 without DOM globals; no worker thread is needed for text.
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  // getDocument takes ownership of (detaches) the array it is given, so hand it a copy.
  const doc = await pdfjs.getDocument({
    data: new Uint8Array(data),
    isEvalSupported: false,
    useSystemFonts: false,
    disableFontFace: true,
    verbosity: 0,
  }).promise;
  try {
    const pages: string[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str + (item.hasEOL ? '\n' : '');
      }
      pages.push(text.trim());
      page.cleanup();
    }
    return pages.filter(Boolean).join('\n\n');
  } finally {
    await doc.destroy();
  }
}
