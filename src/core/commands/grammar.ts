import { BotError, ErrorCode } from '../../ports/errors.js';
import { channelModes, type ChannelMode, type PersonaInput } from '../../ports/stores.js';
/**
 * The chat command grammar, parsed once for every platform. Slack's `/llm ...` text, a mention's
 * text, Discord's subcommands rendered as text and console lines all come through `parseCommand`.
 */

export type Command =
  | { type: 'ask'; question: string }
  | { type: 'help' }
  | { type: 'persona.list' }
  | { type: 'persona.show'; name: string }
  | { type: 'persona.create'; persona: PersonaInput }
  | { type: 'persona.delete'; name: string }
  | { type: 'persona.use'; name: string }
  | { type: 'persona.default'; name: string }
  | { type: 'channel.mode'; mode: ChannelMode }
  | { type: 'channel.memory'; messages: number }
  | { type: 'channel.retrieval'; enabled: boolean }
  | { type: 'memory.clear' }
  | { type: 'knowledge.add'; title?: string; text?: string }
  | { type: 'knowledge.list' }
  | { type: 'knowledge.remove'; id: string }
  | { type: 'usage' };

export type CommandType = Command['type'];

/** Commands that change settings or see tenant-wide data: admins only. */
export const adminCommands: ReadonlySet<CommandType> = new Set<CommandType>([
  'persona.create',
  'persona.delete',
  'persona.use',
  'persona.default',
  'channel.mode',
  'channel.memory',
  'channel.retrieval',
  'memory.clear',
  'knowledge.add',
  'knowledge.list',
  'knowledge.remove',
  'usage',
]);

export const MAX_MEMORY_MESSAGES = 100;

const subcommands: Record<string, string[]> = {
  persona: ['list', 'show', 'create', 'delete', 'use', 'default'],
  channel: ['mode', 'memory', 'retrieval'],
  memory: ['clear'],
  knowledge: ['add', 'list', 'remove'],
};

export class CommandSyntaxError extends BotError {
  constructor(usage: string) {
    super(ErrorCode.CommandUsage, usage);
  }
}

const words = (s: string) => s.trim().split(/\s+/).filter(Boolean);

/** Removes a leading "/llm" so slash text, mentions and console lines parse alike. */
export function stripPrefix(text: string): string {
  return text.trim().replace(/^\/llm\b\s*/i, '');
}

/**
 * Parses one command line. Text that is not a command is a question (a bare question is an
 * ask). Throws CommandSyntaxError for a known command with bad arguments.
 */
export function parseCommand(input: string): Command {
  const text = stripPrefix(input);
  const [verbRaw, subRaw] = words(text);
  const verb = verbRaw?.toLowerCase();
  const sub = subRaw?.toLowerCase();
  if (!verb) return { type: 'help' };
  if (verb === 'help' && words(text).length === 1) return { type: 'help' };
  if (verb === 'usage' && words(text).length === 1) return { type: 'usage' };
  if (verb === 'ask') {
    const question = text.replace(/^ask\b\s*/i, '').trim();
    if (!question) throw new CommandSyntaxError('Usage: `ask <question>`');
    return { type: 'ask', question };
  }
  const known = subcommands[verb];
  if (!known || !sub || !known.includes(sub)) return { type: 'ask', question: text };
  // Arguments: everything after "<verb> <sub>", whitespace kept inside.
  const rest = text.replace(/^\S+\s+\S+\s*/, '');
  const args = words(rest);
  switch (`${verb}.${sub}`) {
    case 'persona.list':
      return { type: 'persona.list' };
    case 'persona.show':
    case 'persona.delete':
    case 'persona.use':
    case 'persona.default': {
      if (args.length !== 1) throw new CommandSyntaxError(`Usage: \`persona ${sub} <name>\``);
      return { type: `persona.${sub}` as 'persona.show', name: args[0]!.toLowerCase() };
    }
    case 'persona.create':
      return { type: 'persona.create', persona: parsePersonaCreate(rest) };
    case 'channel.mode': {
      const mode = args[0]?.toLowerCase() as ChannelMode;
      if (args.length !== 1 || !channelModes.includes(mode)) {
        throw new CommandSyntaxError('Usage: `channel mode mention|all|off`');
      }
      return { type: 'channel.mode', mode };
    }
    case 'channel.memory': {
      const n = Number(args[0]);
      if (args.length !== 1 || !Number.isInteger(n) || n < 0 || n > MAX_MEMORY_MESSAGES) {
        throw new CommandSyntaxError(`Usage: \`channel memory <messages>\` with a whole number from 0 to ${MAX_MEMORY_MESSAGES}`);
      }
      return { type: 'channel.memory', messages: n };
    }
    case 'channel.retrieval': {
      const v = args[0]?.toLowerCase();
      if (args.length !== 1 || (v !== 'on' && v !== 'off')) throw new CommandSyntaxError('Usage: `channel retrieval on|off`');
      return { type: 'channel.retrieval', enabled: v === 'on' };
    }
    case 'memory.clear':
      if (args.length) throw new CommandSyntaxError('Usage: `memory clear`');
      return { type: 'memory.clear' };
    case 'knowledge.list':
      return { type: 'knowledge.list' };
    case 'knowledge.remove':
      if (args.length !== 1) throw new CommandSyntaxError('Usage: `knowledge remove <id>`');
      return { type: 'knowledge.remove', id: args[0]! };
    case 'knowledge.add':
      return parseKnowledgeAdd(rest);
  }
  return { type: 'ask', question: text };
}

/** `knowledge add <title>: <text>` (pasted) or `knowledge add [title]` (with an attached file). */
function parseKnowledgeAdd(rest: string): Command {
  const trimmed = rest.trim();
  if (trimmed.startsWith('--')) {
    throw new CommandSyntaxError('Usage: `knowledge add <title>: <text>`, or `knowledge add [title]` with a file attached');
  }
  const colon = trimmed.indexOf(':');
  if (colon > 0) {
    const title = trimmed.slice(0, colon).trim();
    const text = trimmed.slice(colon + 1).trim();
    if (title && text) return { type: 'knowledge.add', title, text };
  }
  return { type: 'knowledge.add', ...(trimmed ? { title: trimmed } : {}) };
}

/** `persona create <name> [--model M] [--temperature T] [--max-tokens N] <system prompt>` */
function parsePersonaCreate(rest: string): PersonaInput {
  const usage =
    'Usage: `persona create <name> [--model M] [--temperature T] [--max-tokens N] <system prompt>`';
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest.trim());
  if (!m) throw new CommandSyntaxError(usage);
  const name = m[1]!.toLowerCase();
  let body = m[2]!;
  const persona: PersonaInput = { name, systemPrompt: '' };
  for (;;) {
    const opt = /^--(model|temperature|max-tokens)\s+(\S+)\s*/.exec(body);
    if (!opt) break;
    body = body.slice(opt[0].length);
    const [, key, value] = opt;
    if (key === 'model') persona.model = value!;
    else if (key === 'temperature') persona.temperature = Number(value);
    else persona.maxTokens = Number(value);
    if ((key === 'temperature' || key === 'max-tokens') && !Number.isFinite(Number(value))) {
      throw new CommandSyntaxError(`--${key} takes a number. ${usage}`);
    }
  }
  persona.systemPrompt = body.trim();
  if (!persona.systemPrompt) throw new CommandSyntaxError(usage);
  return persona;
}

interface HelpLine {
  syntax: string;
  about: string;
  admin: boolean;
}

const helpLines: HelpLine[] = [
  { syntax: 'ask <question>', about: 'ask the bot (a bare question works too)', admin: false },
  { syntax: 'persona list', about: 'personas you can use', admin: false },
  { syntax: 'persona show <name>', about: "a persona's prompt and settings", admin: false },
  { syntax: 'persona create <name> [--model M] [--temperature T] [--max-tokens N] <prompt>', about: 'add or replace a persona', admin: true },
  { syntax: 'persona delete <name>', about: 'delete a persona', admin: true },
  { syntax: 'persona use <name>', about: 'persona for this channel', admin: true },
  { syntax: 'persona default <name>', about: 'persona for the whole workspace', admin: true },
  { syntax: 'channel mode mention|all|off', about: 'when the bot answers here', admin: true },
  { syntax: 'channel memory <messages>', about: 'how many earlier messages it remembers here', admin: true },
  { syntax: 'channel retrieval on|off', about: 'use the knowledge base in this channel', admin: true },
  { syntax: 'memory clear', about: "forget this channel's conversation", admin: true },
  { syntax: 'knowledge add <title>: <text>', about: 'teach it a document (or attach a file)', admin: true },
  { syntax: 'knowledge list', about: 'documents it knows', admin: true },
  { syntax: 'knowledge remove <id>', about: 'forget a document', admin: true },
  { syntax: 'usage', about: "today's and this month's usage against your limits", admin: true },
  { syntax: 'help', about: 'this list', admin: false },
];

/** Help lists what the caller may use. */
export function helpText(isAdmin: boolean, prefix = '/llm '): string {
  const lines = helpLines.filter((l) => isAdmin || !l.admin).map((l) => `• \`${prefix}${l.syntax}\` — ${l.about}`);
  const footer = isAdmin ? '' : '\nWorkspace admins can also change personas, channel behaviour and knowledge.';
  return `Here is what you can do:\n${lines.join('\n')}${footer}`;
}
