/**
 * Argument parsing and dispatch for `npm run admin -- ...`. Each command names the options it
 * accepts, so a stray `--yes` on the wrong command is an error rather than silently ignored.
 * Returns the process exit code: 0 done, 1 failed, 2 bad input.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { StartupError } from '../startup-errors.js';
import { createLogger, type Logger } from '../logger.js';
import {
  listPlans,
  listTenants,
  purgeTenant,
  setEnabled,
  setLimits,
  setPlan,
  showTenant,
  usageReport,
  type AdminDeps,
} from './commands.js';
import { optionSpec, print, type AdminIo, type CommandSpec, type OptionName, type Values } from './cli-spec.js';
import { openAdminContext } from './context.js';
import { feedbackReport, renderFeedback } from './feedback.js';
import { governanceCommands, governanceHelp } from './governance-cli.js';
import { backendsReport, renderBackends } from './backends.js';
import { AdminInputError, parseDay, parseLimitAssignments, parseTenantRef, tenantRef } from './inputs.js';
import { ingestForTenant, listDocuments, removeDocument, renderDocuments, renderIngest, renderRemoval } from './knowledge.js';
import {
  renderPlanChange,
  renderPlans,
  renderPurge,
  renderStatusChange,
  renderTenantDetails,
  renderTenantList,
  renderUsage,
  tenantJson,
} from './render.js';

export type { AdminIo } from './cli-spec.js';

export const helpText = `Operator CLI: tenants, plans and limits, usage, knowledge, purge, export, erasure, audit, backends.
Works on the service's database: DATABASE_URL, or the embedded PGlite under DATA_DIR.

Usage: npm run admin -- <command> [options]

  tenants list [--json]
      Every tenant: platform, external id, name, status, plan, overrides, created.
  tenants show <platform> <externalId> [--json]
      Details, effective limits, today's and this month's usage, recent audit entries.
  tenants plan <platform> <externalId> <plan> [--set key=value ...] [--unset key ...] [--clear]
      Assign a plan. Existing limit overrides are kept unless --clear.
  tenants limits <platform> <externalId> [--set key=value ...] [--unset key ...] [--clear]
      Change only the limit overrides on top of the tenant's plan.
  tenants disable <platform> <externalId>
  tenants enable <platform> <externalId>
      A disabled tenant's messages get a short "disabled" notice and nothing else.
  tenants purge <platform> <externalId> --yes
      Delete the tenant, every row it owns and its vectors. Cannot be undone.
${governanceHelp}
  usage [--tenant platform:externalId] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
      Usage per tenant and UTC day (default: the last 30 days).
  plans [--json]
      Plans and their limits.
  knowledge list <platform> <externalId> [--json]
      The tenant's documents: id, title, passages, size, when added.
  knowledge remove <platform> <externalId> <id>
      Remove one document and its vectors (the id, or its first 8+ characters).
  feedback [--tenant platform:externalId] [--json]
      Helpful / not helpful votes on answers, today and this month (UTC), and the latest
      answers marked not helpful with their questions (without --tenant: tenants with votes
      this month).
  backends [--service URL] [--json]
      Each configured Ollama backend (OLLAMA_HOST): reachable or not, version, models and how
      long the probe took; and, read from the running service's /metrics (default
      http://127.0.0.1:$PORT, with METRICS_TOKEN when set), whether the service has it up or
      cooling down, slots in use, tokens per second, calls and errors. Says so when the service
      cannot be reached. Exits 1 when no backend is reachable.
  knowledge ingest <platform> <externalId> <file-or-folder>
      Add one file, or every supported file under a folder (.txt .md .html .pdf), to the
      tenant's documents; re-adding a title replaces it. Progress on stderr. Files refused
      by the tenant's limits or unreadable are listed with the reason and the limit, and
      the command then exits 1.

  <platform> is slack, discord or console; <externalId> is the Slack team id, the Discord
  guild id or the console workspace name (see "tenants list").
  Limit keys: maxConcurrent, requestsPerMinute, tokensPerDay, maxQueued, maxDocuments,
  maxChunks, maxFileBytes, retentionDays (days conversations are kept at most; tenant
  admins may choose less), weight (share of the backends while tenants compete: 2 gets
  twice the tokens of 1); values are whole numbers (100_000 is accepted).
  Every change is recorded in the tenant's audit log with actor "operator".
  Exit codes: 0 done, 1 failed (or files were refused), 2 bad input.
`;

const limitChange = (v: Values) => ({ set: parseLimitAssignments(v.set ?? []), unset: v.unset ?? [], clear: v.clear ?? false });

const commands: CommandSpec[] = [
  {
    name: ['tenants', 'list'],
    args: [],
    options: ['json'],
    needsDeps: true,
    async run({ deps, v, io }) {
      const list = await listTenants(deps);
      print(io, v, list.map(tenantJson), () => renderTenantList(list));
    },
  },
  {
    name: ['tenants', 'show'],
    args: ['platform', 'externalId'],
    options: ['json'],
    needsDeps: true,
    async run({ deps, args, v, io }) {
      const d = await showTenant(deps, tenantRef(args[0]!, args[1]!));
      print(io, v, { ...d, tenant: tenantJson(d.tenant) }, () => renderTenantDetails(d));
    },
  },
  {
    name: ['tenants', 'plan'],
    args: ['platform', 'externalId', 'plan'],
    options: ['set', 'unset', 'clear'],
    needsDeps: true,
    async run({ deps, args, v, io }) {
      io.out(renderPlanChange(await setPlan(deps, tenantRef(args[0]!, args[1]!), args[2]!, limitChange(v))));
    },
  },
  {
    name: ['tenants', 'limits'],
    args: ['platform', 'externalId'],
    options: ['set', 'unset', 'clear'],
    needsDeps: true,
    async run({ deps, args, v, io }) {
      io.out(renderPlanChange(await setLimits(deps, tenantRef(args[0]!, args[1]!), limitChange(v))));
    },
  },
  ...(['disable', 'enable'] as const).map(
    (verb): CommandSpec => ({
      name: ['tenants', verb],
      args: ['platform', 'externalId'],
      options: [],
      needsDeps: true,
      async run({ deps, args, io }) {
        io.out(renderStatusChange(await setEnabled(deps, tenantRef(args[0]!, args[1]!), verb === 'enable')));
      },
    }),
  ),
  {
    name: ['tenants', 'purge'],
    args: ['platform', 'externalId'],
    options: ['yes'],
    needsDeps: true,
    async run({ deps, args, v, io }) {
      io.out(renderPurge(await purgeTenant(deps, tenantRef(args[0]!, args[1]!), { yes: v.yes ?? false })));
    },
  },
  {
    name: ['usage'],
    args: [],
    options: ['tenant', 'from', 'to', 'json'],
    needsDeps: true,
    async run({ deps, v, io }) {
      const r = await usageReport(deps, {
        tenant: v.tenant !== undefined ? parseTenantRef(v.tenant) : undefined,
        from: v.from !== undefined ? parseDay(v.from, '--from') : undefined,
        to: v.to !== undefined ? parseDay(v.to, '--to') : undefined,
      });
      print(io, v, r, () => renderUsage(r));
    },
  },
  {
    name: ['feedback'],
    args: [],
    options: ['tenant', 'json'],
    needsDeps: true,
    async run({ deps, v, io }) {
      const rows = await feedbackReport(deps, v.tenant !== undefined ? { tenant: parseTenantRef(v.tenant) } : {});
      print(io, v, rows, () => renderFeedback(rows));
    },
  },
  {
    name: ['plans'],
    args: [],
    options: ['json'],
    needsDeps: false,
    async run({ v, io }) {
      const list = listPlans();
      print(io, v, list, () => renderPlans(list));
    },
  },
  {
    name: ['knowledge', 'list'],
    args: ['platform', 'externalId'],
    options: ['json'],
    needsDeps: true,
    async run({ deps, args, v, io }) {
      const ref = tenantRef(args[0]!, args[1]!);
      const docs = await listDocuments(deps, ref);
      print(io, v, docs, () => renderDocuments(ref, docs));
    },
  },
  {
    name: ['knowledge', 'remove'],
    args: ['platform', 'externalId', 'id'],
    options: [],
    needsDeps: true,
    async run({ deps, args, io }) {
      const ref = tenantRef(args[0]!, args[1]!);
      io.out(renderRemoval(ref, await removeDocument(deps, ref, args[2]!)));
    },
  },
  {
    name: ['knowledge', 'ingest'],
    args: ['platform', 'externalId', 'file-or-folder'],
    options: [],
    needsDeps: true,
    async run({ deps, args, io }) {
      const ref = tenantRef(args[0]!, args[1]!);
      const result = await ingestForTenant(deps, ref, args[2]!, io.progress);
      io.out(renderIngest(ref, result));
      return result.failed.length > 0 ? 1 : 0;
    },
  },
  {
    name: ['backends'],
    args: [],
    options: ['service', 'json'],
    needsDeps: false,
    async run({ v, io, env }) {
      const r = await backendsReport(loadConfig(env), v.service !== undefined ? { serviceUrl: parseServiceUrl(v.service) } : {});
      print(io, v, r, () => renderBackends(r));
      return r.backends.some((b) => b.reachable) ? 0 : 1;
    },
  },
  ...governanceCommands,
];

function parseServiceUrl(raw: string): string {
  if (!/^https?:\/\/\S+$/.test(raw)) throw new AdminInputError(`bad --service "${raw}"; use the service's base URL, such as http://127.0.0.1:3000`);
  return raw;
}

function findCommand(positionals: string[]): CommandSpec {
  const match = commands.find((c) => c.name.every((w, i) => positionals[i] === w));
  if (match) return match;
  const groups = [...new Set(commands.map((c) => c.name[0]))];
  const group = commands.filter((c) => c.name[0] === positionals[0] && c.name.length > 1);
  if (group.length > 0) {
    const what = positionals[1] === undefined ? 'missing' : `unknown`;
    const sub = positionals[1] === undefined ? '' : ` "${positionals[1]}"`;
    throw new AdminInputError(`${what} ${positionals[0]} subcommand${sub}; use one of: ${group.map((c) => c.name[1]).join(', ')}`);
  }
  throw new AdminInputError(`unknown command "${positionals[0] ?? ''}"; use one of: ${groups.join(', ')} (see --help)`);
}

function checkUsage(cmd: CommandSpec, args: string[], v: Values): void {
  const usage = [...cmd.name, ...cmd.args.map((a) => `<${a}>`)].join(' ');
  if (args.length < cmd.args.length) throw new AdminInputError(`missing <${cmd.args[args.length]}>; usage: ${usage}`);
  if (args.length > cmd.args.length) throw new AdminInputError(`unexpected argument "${args[cmd.args.length]}"; usage: ${usage}`);
  for (const k of Object.keys(v) as OptionName[]) {
    if (k !== 'help' && !cmd.options.includes(k)) throw new AdminInputError(`--${k} does not apply to "${cmd.name.join(' ')}"`);
  }
}

export interface RunAdminOptions {
  env: NodeJS.ProcessEnv;
  io: AdminIo;
  /** Tests pass deps over their own database; otherwise the CLI opens the configured one. */
  deps?: AdminDeps;
  logger?: Logger;
}

export async function runAdmin(argv: string[], opts: RunAdminOptions): Promise<number> {
  const { io } = opts;
  let parsed: ReturnType<typeof parseArgs<{ options: typeof optionSpec; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: optionSpec, allowPositionals: true, strict: true });
  } catch (err) {
    // node's message goes on to explain `--` for positionals; the first sentence is the point.
    io.err(`error: ${(err as Error).message.split(/\n|\. /)[0]!.replace(/\.$/, '')} (see --help)`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (values.help || positionals.length === 0 || positionals[0] === 'help') {
    io.out(helpText);
    return positionals.length === 0 && !values.help ? 2 : 0;
  }
  let close: (() => Promise<void>) | undefined;
  try {
    const cmd = findCommand(positionals);
    const args = positionals.slice(cmd.name.length);
    checkUsage(cmd, args, values as Values);
    let deps = opts.deps;
    if (!deps && cmd.needsDeps) {
      const config: Config = loadConfig(opts.env);
      // Warnings (Ollama unreachable, ...) go to stderr so stdout stays parseable.
      const level = config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL;
      const logger = opts.logger ?? createLogger(level, { destination: process.stderr, pretty: 'auto' });
      const ctx = await openAdminContext(config, { logger });
      close = ctx.close;
      deps = ctx.deps;
    }
    return (await cmd.run({ deps: deps!, args, v: values as Values, io, env: opts.env })) ?? 0;
  } catch (err) {
    if (err instanceof AdminInputError) {
      io.err(`error: ${err.message}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 2;
    }
    if (err instanceof StartupError) {
      io.err(`error: ${err.message}`);
      return 1;
    }
    io.err(`error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    return 1;
  } finally {
    await close?.();
  }
}
