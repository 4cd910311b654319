/**
 * The operator's knowledge commands: list and remove a tenant's documents, and ingest a file or
 * a folder into them (progress on stderr, audited as the operator). Refusals name the file, why,
 * and the limit, and make the command fail, so a script notices that files were left out.
 */
import { formatBytes } from '../retrieval/document-input.js';
import { BotError, vocabularies } from '../ports/errors.js';
import type { KnowledgeBase, KnowledgeDocument } from '../ports/knowledge.js';
import type { Tenant } from '../ports/tenancy.js';
import { OPERATOR, refText, requireTenant, type AdminDeps } from './commands.js';
import { ingestFiles, progressBar, type IngestResult } from './ingest-files.js';
import { AdminInputError, type TenantRef } from './inputs.js';
import { formatTable } from './table.js';

async function knowledgeOf(deps: AdminDeps, ref: TenantRef): Promise<{ tenant: Tenant; kb: KnowledgeBase }> {
  const tenant = await requireTenant(deps, ref);
  const access = deps.knowledge;
  if (!access?.knowledge) throw new Error(access?.reason ?? 'knowledge is not available in this deployment');
  return { tenant, kb: access.knowledge };
}

export async function listDocuments(deps: AdminDeps, ref: TenantRef): Promise<KnowledgeDocument[]> {
  const { tenant, kb } = await knowledgeOf(deps, ref);
  return kb.list(tenant);
}

export function renderDocuments(ref: TenantRef, docs: KnowledgeDocument[]): string {
  if (docs.length === 0) return `No documents for ${refText(ref)}.`;
  return formatTable(
    ['ID', 'TITLE', { header: 'PASSAGES', right: true }, { header: 'SIZE', right: true }, 'ADDED', 'CHANNELS'],
    docs.map((d) => [
      d.id,
      d.title,
      d.chunkCount,
      formatBytes(d.bytes),
      d.createdAt.toISOString().slice(0, 16).replace('T', ' '),
      d.channels.length ? d.channels.join(' ') : '(all)',
    ]),
  );
}

/** Removes one document (its full id, or a unique prefix of 8+ characters as `knowledge list` shows). */
export async function removeDocument(deps: AdminDeps, ref: TenantRef, id: string): Promise<KnowledgeDocument> {
  const { tenant, kb } = await knowledgeOf(deps, ref);
  const given = id.trim().toLowerCase();
  const matches = given.length >= 8 ? (await kb.list(tenant)).filter((d) => d.id.startsWith(given)) : [];
  if (matches.length !== 1) {
    const why = matches.length > 1 ? `"${id}" matches ${matches.length} documents; give more of the id` : `no document ${id} in ${refText(ref)}`;
    throw new AdminInputError(`${why}; see "knowledge list ${ref.platform} ${ref.externalId}"`);
  }
  const doc = matches[0]!;
  if (!(await kb.remove(tenant, doc.id))) throw new AdminInputError(`no document ${id} in ${refText(ref)} (removed meanwhile?)`);
  await deps.audit.record(tenant, OPERATOR, 'knowledge.remove', { id: doc.id, title: doc.title });
  return doc;
}

export function renderRemoval(ref: TenantRef, d: KnowledgeDocument): string {
  return `Removed "${d.title}" (${d.id}, ${d.chunkCount} passages) from ${refText(ref)}.`;
}

/** A file, or every supported file under a folder, into the tenant's documents. */
export async function ingestForTenant(
  deps: AdminDeps,
  ref: TenantRef,
  path: string,
  progress?: NodeJS.WritableStream & { isTTY?: boolean },
): Promise<IngestResult> {
  const { tenant, kb } = await knowledgeOf(deps, ref);
  let result: IngestResult;
  try {
    result = await ingestFiles({
      kb,
      scope: tenant,
      path,
      limits: tenant.limits,
      addedBy: OPERATOR,
      ...(progress ? { onProgress: progressBar(progress) } : {}),
    });
  } catch (err) {
    // "does not exist" and the like are the operator's input, not a failure of the service.
    if (err instanceof BotError && err.expected) throw new AdminInputError(err.userText(vocabularies.console));
    throw err;
  }
  await deps.audit.record(tenant, OPERATOR, 'knowledge.ingest', {
    path,
    added: result.added,
    replaced: result.replaced,
    failed: result.failed.length,
    chunks: result.chunks,
  });
  return result;
}

export function renderIngest(ref: TenantRef, r: IngestResult): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const lines = [
    `${refText(ref)}: ${r.added} added, ${r.replaced} replaced, ${r.failed.length} refused, ${plural(r.chunks, 'passage')}` +
      (r.skipped.length ? `; ${plural(r.skipped.length, 'file')} of unsupported kinds not read (${r.skipped.join(', ')})` : ''),
  ];
  for (const f of r.failed) lines.push(`  refused ${f.file}: ${f.error}`);
  const limits = [...new Set(r.failed.flatMap((f) => (f.limit ? [f.limit] : [])))];
  if (limits.length) {
    const sets = limits.map((k) => `--set ${k}=<new value>`).join(' ');
    lines.push(`To raise the limit: npm run admin -- tenants limits ${ref.platform} ${ref.externalId} ${sets}`);
  }
  return lines.join('\n');
}
