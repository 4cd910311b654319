/**
 * The slash commands, defined once: the same table yields the registration body (PUT
 * .../commands) and turns an invocation back into the core's command grammar text, so the two
 * cannot drift. Options are listed in the grammar's argument order.
 */
import { ApplicationCommandOptionType as T } from 'discord.js';
import { BotError, ErrorCode } from '../../src/ports/errors.js';

export interface ArgSpec {
  name: string;
  description: string;
  type: T.String | T.Integer | T.Number | T.Attachment;
  required?: boolean;
  choices?: readonly string[];
  minValue?: number;
  maxValue?: number;
  maxLength?: number;
}

export interface SubcommandSpec {
  /** [subcommand] or [group, subcommand]. */
  path: readonly [string] | readonly [string, string];
  description: string;
  args: readonly ArgSpec[];
  /** Settings and tenant data: only the caller sees the answer. */
  ephemeral: boolean;
  /** Grammar text; default: the path, then each given argument in order. */
  text?: (v: ArgValues) => string;
}

export type ArgValues = Record<string, string | number | undefined>;

const str = (name: string, description: string, required = true, extra: Partial<ArgSpec> = {}): ArgSpec => ({ name, description, type: T.String, required, ...extra });
const personaName = str('name', 'Persona name (one word)', true, { maxLength: 64 });

/** Persona names are one word in the grammar; a space would shift the prompt. */
function oneWord(v: ArgValues, key: string): string {
  const s = String(v[key] ?? '').trim();
  if (/\s/.test(s)) throw new BotError(ErrorCode.InvalidInput, 'Persona names are one word (no spaces).');
  return s;
}

export const llmSubcommands: readonly SubcommandSpec[] = [
  { path: ['persona', 'list'], description: 'Personas you can use', args: [], ephemeral: true },
  { path: ['persona', 'show'], description: "A persona's prompt and settings", args: [personaName], ephemeral: true },
  {
    path: ['persona', 'create'],
    description: 'Add or replace a persona (Manage Server)',
    args: [
      personaName,
      str('prompt', 'System prompt', true, { maxLength: 4000 }),
      str('model', 'Model for this persona', false),
      { name: 'temperature', description: 'Sampling temperature', type: T.Number, minValue: 0, maxValue: 2 },
      { name: 'max_tokens', description: 'Longest answer, in tokens', type: T.Integer, minValue: 1, maxValue: 32_768 },
    ],
    ephemeral: true,
    text: (v) =>
      [
        'persona create',
        oneWord(v, 'name'),
        v.model !== undefined ? `--model ${String(v.model).trim()}` : '',
        v.temperature !== undefined ? `--temperature ${v.temperature}` : '',
        v.max_tokens !== undefined ? `--max-tokens ${v.max_tokens}` : '',
        String(v.prompt ?? ''),
      ].filter(Boolean).join(' '),
  },
  { path: ['persona', 'delete'], description: 'Delete a persona (Manage Server)', args: [personaName], ephemeral: true },
  { path: ['persona', 'use'], description: 'Persona for this channel (Manage Server)', args: [personaName], ephemeral: true },
  { path: ['persona', 'default'], description: 'Persona for the whole server (Manage Server)', args: [personaName], ephemeral: true },
  {
    path: ['channel', 'mode'],
    description: 'When the bot answers in this channel (Manage Server)',
    args: [str('mode', 'mention: when mentioned; all: every message; off: never', true, { choices: ['mention', 'all', 'off'] })],
    ephemeral: true,
  },
  {
    path: ['channel', 'memory'],
    description: 'How many earlier messages it remembers here (Manage Server)',
    args: [{ name: 'messages', description: 'Number of messages', type: T.Integer, required: true, minValue: 0, maxValue: 100 }],
    ephemeral: true,
  },
  {
    path: ['channel', 'retrieval'],
    description: 'Use the knowledge base in this channel (Manage Server)',
    args: [str('state', 'on or off', true, { choices: ['on', 'off'] })],
    ephemeral: true,
  },
  { path: ['memory', 'clear'], description: "Forget this channel's conversation (Manage Server)", args: [], ephemeral: true },
  {
    path: ['knowledge', 'add'],
    description: 'Teach it a document: attach a file, or give a title and text (Manage Server)',
    args: [
      { name: 'attachment', description: 'A .txt, .md, .pdf or .html file', type: T.Attachment },
      str('title', 'Document title', false, { maxLength: 200 }),
      str('text', 'Pasted text (instead of a file)', false, { maxLength: 6000 }),
    ],
    ephemeral: true,
    text: (v) => {
      const text = v.text === undefined ? '' : String(v.text).trim();
      // The grammar reads "<title>: <text>"; a colon inside a file's title would split it.
      const title = String(v.title ?? '').trim().replace(/:/g, ' -');
      if (!text) return `knowledge add${title ? ` ${title}` : ''}`;
      return `knowledge add ${title || text.split('\n')[0]!.slice(0, 60).replace(/:/g, ' -')}: ${text}`;
    },
  },
  { path: ['knowledge', 'list'], description: 'Documents it knows (Manage Server)', args: [], ephemeral: true },
  {
    path: ['knowledge', 'remove'],
    description: 'Forget a document (Manage Server)',
    args: [str('id', 'Document id (from knowledge list)')],
    ephemeral: true,
  },
  { path: ['usage'], description: "Today's and this month's usage against the limits (Manage Server)", args: [], ephemeral: true },
  { path: ['help'], description: 'What the bot can do', args: [], ephemeral: true },
];

export const askCommand: SubcommandSpec = {
  path: ['ask'],
  description: 'Ask the bot a question',
  args: [str('question', 'Your question', true, { maxLength: 4000 })],
  ephemeral: false,
};

/** Grammar text for an invocation, e.g. "persona create pirate Arr, you are a pirate". */
export function grammarText(spec: SubcommandSpec, values: ArgValues): string {
  if (spec.text) return spec.text(values);
  const parts: string[] = [...spec.path];
  for (const a of spec.args) {
    const v = values[a.name];
    if (v !== undefined && a.type !== T.Attachment) parts.push(String(v));
  }
  return parts.join(' ');
}

/** The spec an interaction names, or undefined for a command this build does not know. */
export function findSpec(command: string, group: string | null, sub: string | null): SubcommandSpec | undefined {
  if (command === 'ask') return askCommand;
  if (command !== 'llm') return undefined;
  const path = group ? [group, sub] : [sub];
  return llmSubcommands.find((s) => s.path.length === path.length && s.path.every((p, i) => p === path[i]));
}

function optionJson(a: ArgSpec) {
  return {
    type: a.type,
    name: a.name,
    description: a.description,
    required: a.required ?? false,
    ...(a.choices ? { choices: a.choices.map((c) => ({ name: c, value: c })) } : {}),
    ...(a.minValue !== undefined ? { min_value: a.minValue } : {}),
    ...(a.maxValue !== undefined ? { max_value: a.maxValue } : {}),
    ...(a.maxLength !== undefined ? { max_length: a.maxLength } : {}),
  };
}

/** The bulk-overwrite body: `/ask` and `/llm` (groups and subcommands in definition order). */
export function commandRegistrationBody() {
  // Guild-only: a DM belongs to no server, so it has no tenant to answer for.
  const guildOnly = { contexts: [0], integration_types: [0] };
  const options: any[] = [];
  for (const s of llmSubcommands) {
    const sub = { type: T.Subcommand, name: s.path[s.path.length - 1], description: s.description, options: s.args.map(optionJson) };
    if (s.path.length === 1) {
      options.push(sub);
      continue;
    }
    let group = options.find((o) => o.type === T.SubcommandGroup && o.name === s.path[0]);
    if (!group) {
      group = { type: T.SubcommandGroup, name: s.path[0], description: `${capitalize(s.path[0])} commands`, options: [] };
      options.push(group);
    }
    group.options.push(sub);
  }
  return [
    { name: 'ask', description: askCommand.description, type: 1, options: askCommand.args.map(optionJson), ...guildOnly },
    { name: 'llm', description: 'Personas, channel settings, knowledge, usage and help', type: 1, options, ...guildOnly },
  ];
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
