/** `knowledge ingest`: a folder into one tenant's knowledge base, with a progress bar on stderr. */
import { OPERATOR, refText, requireTenant, type AdminDeps } from './commands.js';
import { ingestFolder, progressBar, type IngestResult } from './ingest-folder.js';
import { AdminInputError, type TenantRef } from './inputs.js';
import { BotError, vocabularies } from '../ports/errors.js';

export async function ingestForTenant(
  deps: AdminDeps,
  ref: TenantRef,
  folder: string,
  progress?: NodeJS.WritableStream & { isTTY?: boolean },
): Promise<IngestResult> {
  const tenant = await requireTenant(deps, ref);
  const access = deps.knowledge ? await deps.knowledge() : undefined;
  if (!access?.knowledge) throw new Error(access?.reason ?? 'knowledge is not available in this deployment');
  let result: IngestResult;
  try {
    result = await ingestFolder({
      kb: access.knowledge,
      scope: tenant,
      folder,
      limits: tenant.limits,
      addedBy: OPERATOR,
      ...(progress ? { onProgress: progressBar(progress) } : {}),
    });
  } catch (err) {
    // "not a folder" and the like are the operator's input, not a failure of the service.
    if (err instanceof BotError && err.expected) throw new AdminInputError(err.userText(vocabularies.console));
    throw err;
  }
  await deps.audit.record(tenant, OPERATOR, 'knowledge.ingest', {
    folder,
    added: result.added,
    replaced: result.replaced,
    failed: result.failed.length,
    chunks: result.chunks,
  });
  return result;
}

export function renderIngest(ref: TenantRef, r: IngestResult): string {
  const lines = [
    `${refText(ref)}: ${r.added} added, ${r.replaced} replaced, ${r.failed.length} refused, ${r.chunks} chunks` +
      (r.skipped.length ? `; ${r.skipped.length} file${r.skipped.length === 1 ? '' : 's'} of unsupported kinds not read` : ''),
  ];
  for (const f of r.failed) lines.push(`  refused ${f.file}: ${f.error}`);
  return lines.join('\n');
}

export async function runIngest(
  deps: AdminDeps,
  ref: TenantRef,
  folder: string,
  progress?: NodeJS.WritableStream & { isTTY?: boolean },
): Promise<string> {
  return renderIngest(ref, await ingestForTenant(deps, ref, folder, progress));
}
