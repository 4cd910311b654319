/**
 * Bulk ingestion for operators: every supported file under a folder becomes one document of a
 * tenant (titled by its path inside the folder, so running it again replaces rather than
 * duplicates). A file that is refused (too big, unreadable, over the limits) is reported and
 * skipped; a backend failure stops the run, since every following file would fail the same way.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { supportedExtensions } from '../retrieval/parse.js';
import { BotError, ErrorCode, vocabularies } from '../ports/errors.js';
import type { KnowledgeBase, KnowledgeLimits } from '../ports/knowledge.js';
import type { TenantScope } from '../ports/tenancy.js';

export interface IngestProgress {
  /** Files finished so far (including this one). */
  done: number;
  total: number;
  file: string;
  status: 'added' | 'replaced' | 'failed';
  /** The refusal, for a failed file. */
  error?: string;
  chunks?: number;
}

export interface IngestResult {
  added: number;
  replaced: number;
  failed: { file: string; error: string }[];
  chunks: number;
  /** Files present but of a kind that cannot be read (not attempted). */
  skipped: string[];
}

export interface IngestFolderOptions {
  kb: KnowledgeBase;
  scope: TenantScope;
  folder: string;
  limits: KnowledgeLimits;
  addedBy?: string;
  onProgress?: (p: IngestProgress) => void;
}

const mimeByExtension: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
};

async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}

export async function ingestFolder(opts: IngestFolderOptions): Promise<IngestResult> {
  const info = await stat(opts.folder).catch(() => undefined);
  if (!info?.isDirectory()) throw new BotError(ErrorCode.InvalidInput, `${opts.folder} is not a folder`);
  const all = await listFiles(opts.folder);
  const supported = new Set<string>(supportedExtensions);
  const files = all.filter((f) => supported.has(extname(f).toLowerCase()));
  const result: IngestResult = {
    added: 0,
    replaced: 0,
    failed: [],
    chunks: 0,
    skipped: all.filter((f) => !files.includes(f)).map((f) => relative(opts.folder, f)),
  };
  let done = 0;
  for (const path of files) {
    const name = relative(opts.folder, path).split(sep).join('/');
    try {
      const data = await readFile(path);
      const mimeType = mimeByExtension[extname(path).toLowerCase()] ?? 'text/plain';
      const { document, replaced } = await opts.kb.add(
        opts.scope,
        { title: name, file: { filename: name, mimeType, data }, addedBy: opts.addedBy ?? 'operator' },
        opts.limits,
      );
      if (replaced) result.replaced++;
      else result.added++;
      result.chunks += document.chunkCount;
      opts.onProgress?.({ done: ++done, total: files.length, file: name, status: replaced ? 'replaced' : 'added', chunks: document.chunkCount });
    } catch (err) {
      if (!(err instanceof BotError && err.expected)) throw err;
      const error = err.userText(vocabularies.console);
      result.failed.push({ file: name, error });
      opts.onProgress?.({ done: ++done, total: files.length, file: name, status: 'failed', error });
    }
  }
  return result;
}

/**
 * A progress reporter for a terminal: one redrawn bar on a TTY, one line per file otherwise
 * (logs, CI). Refusals are always printed on their own line so they are not overwritten.
 */
export function progressBar(stream: NodeJS.WritableStream & { isTTY?: boolean }, width = 30): (p: IngestProgress) => void {
  return (p) => {
    const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total}`;
    const note = p.status === 'failed' ? `skipped ${p.file}: ${p.error}` : `${p.status} ${p.file} (${p.chunks ?? 0} chunks)`;
    if (stream.isTTY) {
      if (p.status === 'failed') stream.write(`\r\x1b[2K${note}\n`);
      stream.write(`\r\x1b[2K${bar} ${p.file.slice(-40)}`);
      if (p.done === p.total) stream.write('\n');
    } else {
      stream.write(`${bar} ${note}\n`);
    }
  };
}
