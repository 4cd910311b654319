/** The operator CLI's data-governance commands (export, erasure, audit), declared for run.ts. */
import type { CommandSpec } from './cli-spec.js';
import { print } from './cli-spec.js';
import { auditReport, exportToFile, forgetUserData, renderAudit, renderExport, renderForget } from './governance.js';
import { AdminInputError, parseTenantRef, tenantRef } from './inputs.js';

export const governanceHelp = `  tenants export <platform> <externalId> --out FILE
      Everything the tenant owns as NDJSON: a header line (format, schema version, tenant,
      time), one record per line (tenant, installation metadata, personas, channel settings,
      messages, documents with their text, usage, audit log, answer jobs), then an "end" line
      with the counts. Never tokens, sealed secrets or vectors. Streams (memory stays flat),
      progress on stderr; FILE is written as FILE.partial, renamed when complete, mode 0600.
  users forget <platform> <externalId> <userId> --yes
      Erase one user's data in a tenant: their messages, the bot's answers in conversations
      only they asked in, their finished questions and user token; their id in audit entries
      and in documents or personas they added becomes "[forgotten user]". Prints what it did
      (and what it kept, and why) and writes an audit entry that does not name them.
  audit [--tenant platform:externalId] [--limit N] [--json]
      The newest audit entries (admin and operator changes), of one tenant or of every tenant;
      default 50.`;

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 10_000) throw new AdminInputError(`bad --limit "${raw}"; use a whole number from 1 to 10000`);
  return n;
}

export const governanceCommands: CommandSpec[] = [
  {
    name: ['tenants', 'export'],
    args: ['platform', 'externalId'],
    options: ['out'],
    needsDeps: true,
    async run({ deps, args, v, io }) {
      io.out(renderExport(await exportToFile(deps, tenantRef(args[0]!, args[1]!), v.out ?? '', io.progress)));
    },
  },
  {
    name: ['users', 'forget'],
    args: ['platform', 'externalId', 'userId'],
    options: ['yes'],
    needsDeps: true,
    async run({ deps, args, v, io }) {
      const r = await forgetUserData(deps, tenantRef(args[0]!, args[1]!), args[2]!, { yes: v.yes ?? false });
      io.out(renderForget(r));
      // Questions still being answered were kept: the erasure is not complete until it runs again.
      return r.tables.answer_jobs?.kept ? 1 : 0;
    },
  },
  {
    name: ['audit'],
    args: [],
    options: ['tenant', 'limit', 'json'],
    needsDeps: true,
    async run({ deps, v, io }) {
      const tenant = v.tenant !== undefined ? parseTenantRef(v.tenant) : undefined;
      const rows = await auditReport(deps, { ...(tenant ? { tenant } : {}), limit: parseLimit(v.limit) });
      print(io, v, rows, () => renderAudit(rows, tenant));
    },
  },
];
