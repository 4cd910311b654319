/**
 * Bulk ingestion for operators: one file, or every supported file under a folder, becomes one
 * document of a tenant (titled by its path inside the folder, or its name, so running it again
 * replaces rather than duplicates). A file that is refused (too big, unreadable, over a limit)
 * is reported in the operator's terms (which limit, how far over) and skipped; a backend failure
 * stops the run, since every following file would fail the same way.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { supportedExtensions } from '../retrieval/parse.js';
import { BotError, ErrorCode } from '../ports/errors.js';
import type { KnowledgeBase, KnowledgeLimits } from '../ports/knowledge.js';
import type { TenantScope } from '../ports/tenancy.js';
import { barText, type ProgressStream } from './progress.js';
import { operatorRefusal, type Refusal, type TenantHoldings } from './refusals.js';

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
  /** Refused files: why, in the operator's terms, and the limit that refused it if one did. */
  failed: ({ file: string } & Refusal)[];
  chunks: number;
  /** Files present but of a kind that cannot be read (not attempted). */
  skipped: string[];
}

export interface IngestOptions {
  kb: KnowledgeBase;
  scope: TenantScope;
  /** A folder (every supported file under it) or one file. */
  path: string;
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

/** The files to read and the folder their titles are relative to. */
async function filesOf(path: string): Promise<{ base: string; files: string[]; single: boolean }> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new BotError(ErrorCode.InvalidInput, `${path} does not exist`);
  if (info.isFile()) return { base: dirname(path), files: [path], single: true };
  if (!info.isDirectory()) throw new BotError(ErrorCode.InvalidInput, `${path} is neither a file nor a folder`);
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
  return { base: path, files, single: false };
}

export async function ingestFiles(opts: IngestOptions): Promise<IngestResult> {
  const { base, files: all, single } = await filesOf(opts.path);
  const supported = new Set<string>(supportedExtensions);
  // A file named on its own is attempted whatever its kind, so its refusal says why.
  const files = single ? all : all.filter((f) => supported.has(extname(f).toLowerCase()));
  const result: IngestResult = {
    added: 0,
    replaced: 0,
    failed: [],
    chunks: 0,
    skipped: all.filter((f) => !files.includes(f)).map((f) => relative(base, f)),
  };
  const holdings: TenantHoldings = new Map((await opts.kb.list(opts.scope)).map((d) => [d.title, d.chunkCount]));
  let done = 0;
  for (const path of files) {
    const name = single ? basename(path) : relative(base, path).split(sep).join('/');
    try {
      const data = await readFile(path);
      const mimeType = mimeByExtension[extname(path).toLowerCase()] ?? 'text/plain';
      const { document, replaced } = await opts.kb.add(
        opts.scope,
        { title: name, file: { filename: name, mimeType, data }, addedBy: opts.addedBy ?? 'operator' },
        opts.limits,
      );
      holdings.set(document.title, document.chunkCount);
      if (replaced) result.replaced++;
      else result.added++;
      result.chunks += document.chunkCount;
      opts.onProgress?.({ done: ++done, total: files.length, file: name, status: replaced ? 'replaced' : 'added', chunks: document.chunkCount });
    } catch (err) {
      if (!(err instanceof BotError && err.expected)) throw err;
      const size = (await stat(path).catch(() => undefined))?.size ?? 0;
      const refusal = operatorRefusal(err, { title: name, bytes: size, limits: opts.limits, holdings });
      result.failed.push({ file: name, ...refusal });
      opts.onProgress?.({ done: ++done, total: files.length, file: name, status: 'failed', error: refusal.error });
    }
  }
  return result;
}

/**
 * A progress reporter for a terminal: one redrawn bar on a TTY, one line per file otherwise
 * (logs, CI). Refusals are always printed on their own line so they are not overwritten.
 */
export function progressBar(stream: ProgressStream, width = 30): (p: IngestProgress) => void {
  return (p) => {
    const bar = barText(p.done, p.total, width);
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
