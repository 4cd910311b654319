/**
 * Runs parsed commands. Permission comes from the adapter (caller.isAdmin); every admin change
 * writes an audit row. Settings answers are ephemeral where the platform allows.
 */
import { adminCommands, helpText, type Command } from './grammar.js';
import { renderUsage } from './usage-report.js';
import type { Tenant } from '../../ports/tenancy.js';
import type { AuditTrail, ChannelSettingsStore, ConversationStore, PersonaCatalog, TenantDirectory, UsageLedger } from '../../ports/stores.js';
import type { Admission } from '../../ports/admission.js';
import { BotError, ErrorCode, vocabularies } from '../../ports/errors.js';
import type { InboundMessage } from '../../ports/messages.js';
import type { KnowledgeBase } from '../../ports/knowledge.js';
import type { ReplyStream } from '../reply/stream.js';

export interface CommandDeps {
  tenants: TenantDirectory;
  channels: ChannelSettingsStore;
  memory: ConversationStore;
  personas: PersonaCatalog;
  usage: UsageLedger;
  audit: AuditTrail;
  /** Ingestion embeds on the shared backend, so it waits for a slot like a question does. */
  admission: Admission;
  knowledge?: KnowledgeBase;
  /** Why knowledge is off, shown to users when `knowledge` is undefined. */
  knowledgeUnavailable?: string;
}

type Reply = { text: string; ephemeral?: boolean };

export class CommandHandlers {
  constructor(private readonly deps: CommandDeps) {}

  async run(tenant: Tenant, msg: InboundMessage, command: Command, sink: ReplyStream): Promise<void> {
    let reply: Reply;
    try {
      // Asking the platform costs a call (Slack users.info): only commands that depend on it ask.
      const admin = adminCommands.has(command.type) || command.type === 'help' ? await msg.caller.isAdmin() : false;
      if (adminCommands.has(command.type) && !admin) {
        reply = { text: new BotError(ErrorCode.AdminOnly).userText(vocabularies[msg.platform]), ephemeral: true };
      } else {
        reply = await this.execute(tenant, msg, command, admin);
      }
    } catch (err) {
      if (!(err instanceof BotError && err.expected)) throw err;
      reply = { text: err.userText(vocabularies[msg.platform]), ephemeral: true };
    }
    await sink.finish(reply.text, { kind: 'notice', ephemeral: reply.ephemeral ?? true });
  }

  private async execute(tenant: Tenant, msg: InboundMessage, c: Command, admin: boolean): Promise<Reply> {
    const { channels, memory, personas, audit, tenants } = this.deps;
    const actor = msg.caller.userId;
    const channel = msg.channelId;
    switch (c.type) {
      case 'help':
        return { text: helpText(admin) };
      case 'ask':
        throw new Error('ask is answered by the pipeline');
      case 'persona.list': {
        const list = await personas.list(tenant);
        const settings = await channels.get(tenant, channel);
        const lines = list.map((p) => {
          const marks = [p.builtin ? 'built-in' : 'custom'];
          if (p.name === settings.persona) marks.push('this channel');
          if (p.name === tenant.defaultPersona) marks.push('workspace default');
          return `• **${p.name}** (${marks.join(', ')})`;
        });
        return { text: `Personas:\n${lines.join('\n')}` };
      }
      case 'persona.show': {
        const p = await personas.get(tenant, c.name);
        if (!p) throw new BotError(ErrorCode.NotFound, `There is no persona called "${c.name}". Try \`persona list\`.`);
        const extra = [
          p.model ? `model ${p.model}` : 'default model',
          p.temperature != null ? `temperature ${p.temperature}` : null,
          p.maxTokens != null ? `max ${p.maxTokens} tokens` : null,
        ].filter(Boolean);
        return { text: `**${p.name}** (${extra.join(', ')})\nSystem prompt: ${p.systemPrompt}` };
      }
      case 'persona.create': {
        const p = await personas.create(tenant, c.persona, actor);
        await audit.record(tenant, actor, 'persona.create', { name: p.name, model: p.model });
        return { text: `Persona **${p.name}** saved. Use it here with \`persona use ${p.name}\`.` };
      }
      case 'persona.delete': {
        const deleted = await personas.delete(tenant, c.name);
        if (!deleted) throw new BotError(ErrorCode.NotFound, `There is no custom persona called "${c.name}".`);
        await audit.record(tenant, actor, 'persona.delete', { name: c.name });
        return { text: `Persona **${c.name}** deleted. Channels that used it fall back to the default.` };
      }
      case 'persona.use': {
        await this.requirePersona(tenant, c.name);
        await channels.set(tenant, channel, { persona: c.name });
        await audit.record(tenant, actor, 'persona.use', { channel, name: c.name });
        return { text: `This channel now uses the **${c.name}** persona.` };
      }
      case 'persona.default': {
        await this.requirePersona(tenant, c.name);
        await tenants.setDefaultPersona(tenant, c.name);
        await audit.record(tenant, actor, 'persona.default', { name: c.name });
        return { text: `The workspace default persona is now **${c.name}**.` };
      }
      case 'channel.mode': {
        await channels.set(tenant, channel, { mode: c.mode });
        await audit.record(tenant, actor, 'channel.mode', { channel, mode: c.mode });
        const what = { mention: 'only when mentioned', all: 'to every message', off: 'never (switched off)' }[c.mode];
        return { text: `In this channel I now answer ${what}.` };
      }
      case 'channel.memory': {
        await channels.set(tenant, channel, { memoryMessages: c.messages });
        await audit.record(tenant, actor, 'channel.memory', { channel, messages: c.messages });
        return { text: `In this channel I now remember the last ${c.messages} messages.` };
      }
      case 'channel.retrieval': {
        await channels.set(tenant, channel, { retrieval: c.enabled });
        await audit.record(tenant, actor, 'channel.retrieval', { channel, enabled: c.enabled });
        return { text: `Knowledge base ${c.enabled ? 'on' : 'off'} in this channel.` };
      }
      case 'memory.clear': {
        const n = await memory.clearChannel(tenant, channel);
        await audit.record(tenant, actor, 'memory.clear', { channel, messages: n });
        return { text: `Forgot ${n} message${n === 1 ? '' : 's'} in this channel.` };
      }
      case 'usage':
        return { text: await renderUsage(this.deps.usage, tenant) };
      case 'knowledge.add':
      case 'knowledge.list':
      case 'knowledge.remove':
        return this.knowledge(tenant, msg, c, actor);
    }
  }

  private async knowledge(
    tenant: Tenant,
    msg: InboundMessage,
    c: Extract<Command, { type: `knowledge.${string}` }>,
    actor: string,
  ): Promise<Reply> {
    const kb = this.deps.knowledge;
    if (!kb) throw new BotError(ErrorCode.KnowledgeUnavailable, this.deps.knowledgeUnavailable);
    if (c.type === 'knowledge.list') {
      const docs = await kb.list(tenant);
      if (docs.length === 0) return { text: 'No documents yet. Add one with `knowledge add <title>: <text>` or attach a file.' };
      const lines = docs.map((d) => `• \`${d.id}\` **${d.title}** (${d.chunkCount} passages, ${d.source})`);
      return { text: `Documents:\n${lines.join('\n')}` };
    }
    if (c.type === 'knowledge.remove') {
      const removed = await kb.remove(tenant, c.id);
      if (!removed) throw new BotError(ErrorCode.NotFound, `There is no document with id ${c.id}. See \`knowledge list\`.`);
      await this.deps.audit.record(tenant, actor, 'knowledge.remove', { id: c.id });
      return { text: `Document ${c.id} removed.` };
    }
    const file = msg.attachments?.[0];
    if (!c.text && !file) {
      throw new BotError(ErrorCode.CommandUsage, 'Paste the text (`knowledge add <title>: <text>`) or attach a file (.txt, .md, .pdf, .html).');
    }
    if (file && file.size > tenant.limits.maxFileBytes) {
      throw new BotError(ErrorCode.FileTooLarge, `That file is ${fmtBytes(file.size)}; the limit is ${fmtBytes(tenant.limits.maxFileBytes)}.`);
    }
    const input = file
      ? { title: c.title ?? file.filename, file: { filename: file.filename, mimeType: file.mimeType, data: await file.read() }, addedBy: actor }
      : { title: c.title, text: c.text!, addedBy: actor };
    const { document, replaced } = await this.deps.admission.run(tenant, tenant.limits, () => kb.add(tenant, input, tenant.limits));
    await this.deps.audit.record(tenant, actor, 'knowledge.add', { id: document.id, title: document.title, replaced });
    return {
      text: `${replaced ? 'Replaced' : 'Added'} **${document.title}** (id \`${document.id}\`, ${document.chunkCount} passages).`,
    };
  }

  private async requirePersona(tenant: Tenant, name: string): Promise<void> {
    if (!(await this.deps.personas.get(tenant, name))) {
      throw new BotError(ErrorCode.NotFound, `There is no persona called "${name}". Try \`persona list\`.`);
    }
  }
}

function fmtBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}
