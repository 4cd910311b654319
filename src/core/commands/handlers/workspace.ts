/** Workspace-wide views: usage against the limits, and help for the caller's role. */
import { helpText } from '../help.js';
import { renderUsage } from '../usage-report.js';
import type { HandlerTable } from './context.js';

export const workspaceHandlers = {
  usage: async ({ deps, tenant }) => ({ text: await renderUsage(deps.usage, tenant) }),

  help: async ({ isAdmin, vocabulary }) => ({ text: helpText(await isAdmin(), vocabulary) }),
} satisfies Partial<HandlerTable>;
