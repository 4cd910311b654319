/** The tenant's knowledge base: add pasted text or an attached file, list, scope to channels, remove. Admins only. */
import { BotError, ErrorCode } from '../../../ports/errors.js';
import type { KnowledgeBase } from '../../../ports/knowledge.js';
import { readChannelList, scopeText, thisChannel } from './channel-refs.js';
import type { CommandContext, HandlerTable } from './context.js';

function knowledgeOf(ctx: CommandContext): KnowledgeBase {
  if (!ctx.deps.knowledge) throw new BotError(ErrorCode.KnowledgeUnavailable, ctx.deps.knowledgeUnavailable);
  return ctx.deps.knowledge;
}

function fmtBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}

export const knowledgeHandlers = {
  'knowledge.add': async (ctx, { title, text, here }) => {
    const kb = knowledgeOf(ctx);
    const { tenant, actor, deps } = ctx;
    // Absent, a new document is workspace-wide and a new version keeps the old one's channels.
    const channels = here ? { channels: [thisChannel(ctx)] } : {};
    const file = ctx.msg.attachments?.[0];
    if (!text && !file) {
      throw new BotError(ErrorCode.CommandUsage, 'Paste the text (`knowledge add <title>: <text>`) or attach a file (.txt, .md, .pdf, .html).');
    }
    if (file && file.size > tenant.limits.maxFileBytes) {
      throw new BotError(ErrorCode.FileTooLarge, `That file is ${fmtBytes(file.size)}; the limit is ${fmtBytes(tenant.limits.maxFileBytes)}.`);
    }
    const input = file
      ? { title: title ?? file.filename, file: { filename: file.filename, mimeType: file.mimeType, data: await file.read() }, addedBy: actor, ...channels }
      : { title, text: text!, addedBy: actor, ...channels };
    const { document, replaced } = await deps.admission.run(tenant, tenant.limits, () => kb.add(tenant, input, tenant.limits));
    await deps.audit.record(tenant, actor, 'knowledge.add', { id: document.id, title: document.title, replaced, channels: document.channels });
    const used = scopeText(document.channels, ctx.vocabulary);
    return { text: `${replaced ? 'Replaced' : 'Added'} **${document.title}** (id \`${document.id}\`, ${document.chunkCount} passages), used ${used}.` };
  },

  'knowledge.list': async (ctx) => {
    const docs = await knowledgeOf(ctx).list(ctx.tenant);
    if (docs.length === 0) return { text: 'No documents yet. Add one with `knowledge add <title>: <text>` or attach a file.' };
    const lines = docs.map((d) => `• \`${d.id}\` **${d.title}** (${d.chunkCount} passages, ${d.source}): ${scopeText(d.channels, ctx.vocabulary)}`);
    return { text: `Documents:\n${lines.join('\n')}` };
  },

  'knowledge.restrict': async (ctx, { id, channels: typed }) => {
    const channels = readChannelList(ctx, typed) ?? [];
    const document = await knowledgeOf(ctx).restrict(ctx.tenant, id, channels);
    if (!document) throw new BotError(ErrorCode.NotFound, `There is no document with id ${id}. See \`knowledge list\`.`);
    await ctx.deps.audit.record(ctx.tenant, ctx.actor, 'knowledge.restrict', { id: document.id, title: document.title, channels });
    return { text: `**${document.title}** is now used ${scopeText(document.channels, ctx.vocabulary)}.` };
  },

  'knowledge.remove': async (ctx, { id }) => {
    if (!(await knowledgeOf(ctx).remove(ctx.tenant, id))) {
      throw new BotError(ErrorCode.NotFound, `There is no document with id ${id}. See \`knowledge list\`.`);
    }
    await ctx.deps.audit.record(ctx.tenant, ctx.actor, 'knowledge.remove', { id });
    return { text: `Document ${id} removed.` };
  },
} satisfies Partial<HandlerTable>;
