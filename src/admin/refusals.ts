/**
 * A refused document in the operator's terms. Users read "this workspace has reached its limit,
 * ask an admin"; an operator needs the file, why, and which of the tenant's limits refused it,
 * with its value, so they can raise it (`tenants limits ... --set key=value`) or fix the file.
 */
import { ErrorCode, type BotError } from '../ports/errors.js';
import type { KnowledgeLimits } from '../ports/knowledge.js';
import { supportedExtensions } from '../retrieval/parse.js';
import { formatBytes } from '../retrieval/document-input.js';

/** The tenant's documents by title, with their passage counts. */
export type TenantHoldings = Map<string, number>;

export interface Refusal {
  /** Why, in the operator's words. */
  error: string;
  /** The limit that refused the file, when one did. */
  limit?: keyof KnowledgeLimits;
}

const n = (v: number) => v.toLocaleString('en-US');

export function operatorRefusal(
  err: BotError,
  file: { title: string; bytes: number; limits: KnowledgeLimits; holdings: TenantHoldings },
): Refusal {
  const { limits, holdings } = file;
  switch (err.code) {
    case ErrorCode.FileTooLarge:
      return {
        error: `${formatBytes(file.bytes)} is over the tenant's file size limit of ${formatBytes(limits.maxFileBytes)} (maxFileBytes=${limits.maxFileBytes})`,
        limit: 'maxFileBytes',
      };
    case ErrorCode.LimitReached: {
      if (!holdings.has(file.title) && holdings.size >= limits.maxDocuments) {
        return { error: `the tenant already has ${n(holdings.size)} documents, its limit (maxDocuments=${limits.maxDocuments})`, limit: 'maxDocuments' };
      }
      const inUse = [...holdings].reduce((sum, [title, chunks]) => sum + (title === file.title ? 0 : chunks), 0);
      return {
        error: `its passages would take the tenant over its limit of ${n(limits.maxChunks)} passages, ${n(inUse)} of them in use (maxChunks=${limits.maxChunks})`,
        limit: 'maxChunks',
      };
    }
    case ErrorCode.FileUnsupported:
      return { error: `not a kind of file the knowledge base reads (text, Markdown, HTML or PDF: ${supportedExtensions.join(' ')})` };
    case ErrorCode.FileUnreadable:
      return { error: 'no text could be read from it (empty, damaged, or not really the kind of file its name says)' };
    default:
      return { error: err.message };
  }
}
