/**
 * What a new document is before it is embedded: its text (pasted, or parsed from a file) checked
 * against the tenant's size limit, its title, and whether adding it keeps the tenant within its
 * document and passage limits. Refusals say which limit and how to get under it.
 */
import { and, count, eq, sum } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { documents } from '../db/schema.js';
import { parseFile } from './parse.js';
import { BotError, ErrorCode } from '../ports/errors.js';
import type { KnowledgeInput, KnowledgeLimits } from '../ports/knowledge.js';
import type { TenantScope } from '../ports/tenancy.js';

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} bytes`;
}

export function cleanTitle(raw: string | undefined): string {
  return (raw ?? '').replace(/\s+/g, ' ').trim().replace(/:$/, '').trim().slice(0, 200);
}

export interface DocumentText {
  text: string;
  source: string;
  mimeType: string;
  bytes: number;
}

export async function readInput(input: KnowledgeInput, limits: KnowledgeLimits): Promise<DocumentText> {
  if (input.file) {
    const { filename, data } = input.file;
    if (data.length > limits.maxFileBytes) {
      throw new BotError(
        ErrorCode.FileTooLarge,
        `"${filename}" is too large (${formatBytes(data.length)}): files can be at most ${formatBytes(limits.maxFileBytes)}.`,
      );
    }
    const text = await parseFile(input.file);
    return { text, source: filename.slice(0, 200), mimeType: input.file.mimeType || 'application/octet-stream', bytes: data.length };
  }
  const text = input.text ?? '';
  if (!text.trim()) throw new BotError(ErrorCode.InvalidInput, 'Nothing to add: paste some text after the title, or attach a file.');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxFileBytes) {
    throw new BotError(ErrorCode.FileTooLarge, `That text is too long (${formatBytes(bytes)}): documents can be at most ${formatBytes(limits.maxFileBytes)}.`);
  }
  return { text, source: 'paste', mimeType: 'text/plain', bytes };
}

/** The document a new one of `title` would replace: its passages and channels, for the limits and its scope. */
export async function documentTitled(db: Db, scope: TenantScope, title: string): Promise<{ chunks: number; channels: string[] } | undefined> {
  const [same] = await db
    .select({ chunks: documents.chunkCount, channels: documents.channels })
    .from(documents)
    .where(and(eq(documents.tenantId, scope.tenantId), eq(documents.title, title)));
  return same;
}

/** Refuses a document that would take the tenant past its document or passage limit. */
export async function checkLimits(
  db: Db,
  scope: TenantScope,
  doc: { title: string; chunks: number; replaces: { chunks: number } | undefined },
  limits: KnowledgeLimits,
): Promise<void> {
  const [totals] = await db
    .select({ docs: count(), chunks: sum(documents.chunkCount) })
    .from(documents)
    .where(eq(documents.tenantId, scope.tenantId));
  const docsAfter = Number(totals?.docs ?? 0) + (doc.replaces ? 0 : 1);
  if (docsAfter > limits.maxDocuments) {
    throw new BotError(
      ErrorCode.LimitReached,
      (v) => `This ${v.workspace} already has ${limits.maxDocuments} documents, its limit. Remove one with \`knowledge remove <id>\` first.`,
    );
  }
  const chunksAfter = Number(totals?.chunks ?? 0) - (doc.replaces?.chunks ?? 0) + doc.chunks;
  if (chunksAfter > limits.maxChunks) {
    throw new BotError(
      ErrorCode.LimitReached,
      (v) =>
        `"${doc.title}" needs ${doc.chunks} passages, and the knowledge base would hold ${chunksAfter}: over this ${v.workspace}'s limit of ${limits.maxChunks}. Remove a document or add a shorter one.`,
    );
  }
}
