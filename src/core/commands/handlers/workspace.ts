/** Workspace-wide views: usage against the limits, the audit log, and help for the caller's role. */
import { BotError, ErrorCode } from '../../../ports/errors.js';
import { helpText } from '../help.js';
import { renderUsage } from '../usage-report.js';
import type { HandlerTable } from './context.js';

const AUDIT_PAGE = 10;

/** `2026-12-02 05:01 UTC`: the same for every reader, whatever their time zone. */
const when = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** `channel=C1, mode=all`: enough to recognise the change, never a whole prompt. Keys sorted: jsonb keeps no order. */
function shortDetail(detail: Record<string, unknown>): string {
  const parts = Object.entries(detail)
    .sort(([a], [b]) => a.localeCompare(b))
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${String(typeof v === 'object' ? JSON.stringify(v) : v).slice(0, 40)}`);
  const text = parts.join(', ');
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}

export const workspaceHandlers = {
  usage: async ({ deps, tenant }) => ({ text: await renderUsage(deps.usage, tenant) }),

  audit: async ({ deps, tenant }, { page = 1 }) => {
    const total = await deps.audit.count(tenant);
    if (total === 0) return { text: 'No admin changes recorded yet.' };
    const pages = Math.ceil(total / AUDIT_PAGE);
    if (page > pages) throw new BotError(ErrorCode.NotFound, `There is no page ${page}: the audit log has ${pages} page${pages === 1 ? '' : 's'}.`);
    const entries = await deps.audit.recent(tenant, AUDIT_PAGE, undefined, (page - 1) * AUDIT_PAGE);
    const lines = entries.map((e) => `• ${when(e.createdAt)} — ${e.actor} — **${e.action}** ${shortDetail(e.detail)}`.trimEnd());
    const older = page < pages ? ` (\`audit ${page + 1}\` for older)` : '';
    return { text: ['Admin changes, newest first:', ...lines, `Page ${page} of ${pages}${older}`].join('\n') };
  },

  help: async ({ isAdmin, vocabulary }) => ({ text: helpText(await isAdmin(), vocabulary) }),
} satisfies Partial<HandlerTable>;
