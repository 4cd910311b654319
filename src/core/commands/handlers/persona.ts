/** Persona commands: list and show for everyone; create, delete, use and default for admins. */
import { BotError, ErrorCode } from '../../../ports/errors.js';
import type { CommandContext, HandlerTable } from './context.js';

async function requirePersona(ctx: CommandContext, name: string): Promise<void> {
  if (!(await ctx.deps.personas.get(ctx.tenant, name))) {
    throw new BotError(ErrorCode.NotFound, `There is no persona called "${name}". Try \`persona list\`.`);
  }
}

export const personaHandlers = {
  'persona.list': async ({ deps, tenant, channel }) => {
    const [list, settings] = await Promise.all([deps.personas.list(tenant), deps.channels.get(tenant, channel)]);
    const lines = list.map((p) => {
      const marks = [p.builtin ? 'built-in' : 'custom'];
      if (p.name === settings.persona) marks.push('this channel');
      if (p.name === tenant.defaultPersona) marks.push('workspace default');
      return `• **${p.name}** (${marks.join(', ')})`;
    });
    return { text: `Personas:\n${lines.join('\n')}` };
  },

  'persona.show': async ({ deps, tenant }, { name }) => {
    const p = await deps.personas.get(tenant, name);
    if (!p) throw new BotError(ErrorCode.NotFound, `There is no persona called "${name}". Try \`persona list\`.`);
    const extra = [
      p.model ? `model ${p.model}` : 'default model',
      p.temperature != null ? `temperature ${p.temperature}` : null,
      p.maxTokens != null ? `max ${p.maxTokens} tokens` : null,
    ].filter(Boolean);
    return { text: `**${p.name}** (${extra.join(', ')})\nSystem prompt: ${p.systemPrompt}` };
  },

  'persona.create': async ({ deps, tenant, actor }, args) => {
    const input = { name: args.name, systemPrompt: args.prompt, model: args.model, temperature: args.temperature, maxTokens: args.max_tokens };
    const p = await deps.personas.create(tenant, input, actor);
    await deps.audit.record(tenant, actor, 'persona.create', { name: p.name, model: p.model });
    return { text: `Persona **${p.name}** saved. Use it here with \`persona use ${p.name}\`.` };
  },

  'persona.delete': async ({ deps, tenant, actor }, { name }) => {
    if (!(await deps.personas.delete(tenant, name))) throw new BotError(ErrorCode.NotFound, `There is no custom persona called "${name}".`);
    await deps.audit.record(tenant, actor, 'persona.delete', { name });
    return { text: `Persona **${name}** deleted. Channels that used it fall back to the default.` };
  },

  'persona.use': async (ctx, { name }) => {
    await requirePersona(ctx, name);
    await ctx.deps.channels.set(ctx.tenant, ctx.channel, { persona: name });
    await ctx.deps.audit.record(ctx.tenant, ctx.actor, 'persona.use', { channel: ctx.channel, name });
    return { text: `This channel now uses the **${name}** persona.` };
  },

  'persona.default': async (ctx, { name }) => {
    await requirePersona(ctx, name);
    await ctx.deps.tenants.setDefaultPersona(ctx.tenant, name);
    await ctx.deps.audit.record(ctx.tenant, ctx.actor, 'persona.default', { name });
    return { text: `The ${ctx.vocabulary.workspace} default persona is now **${name}**.` };
  },
} satisfies Partial<HandlerTable>;
