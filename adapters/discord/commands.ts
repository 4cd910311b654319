/**
 * The slash commands, derived from the core's command registry: the registration body (PUT
 * .../commands) and the invocation → grammar text mapping both come from the same entries that
 * parse typed commands, so the platforms cannot drift. `/ask` and `/llm` with groups and
 * subcommands; options in the grammar's argument order (Discord wants required ones first).
 */
import { ApplicationCommandOptionType as T } from 'discord.js';
import { commandText } from '../../src/core/commands/command-text.js';
import { commandSpecs } from '../../src/core/commands/registry.js';
import { aboutOf, type ArgSpec as CoreArg, type ArgValues, type CommandSpec } from '../../src/core/commands/spec.js';
import { vocabularies } from '../../src/ports/errors.js';

export type { ArgValues } from '../../src/core/commands/spec.js';

/** Discord's cap on a string option's length. */
const MAX_STRING_OPTION = 6000;

export interface ArgSpec {
  name: string;
  description: string;
  type: T.String | T.Integer | T.Number | T.Attachment | T.Boolean;
  required: boolean;
  choices?: readonly string[];
  minValue?: number;
  maxValue?: number;
  maxLength?: number;
}

export interface SubcommandSpec {
  /** The registry entry it invokes. */
  command: CommandSpec;
  /** The slash command's name: `llm`, or the command's own (`ask`). */
  slash: string;
  /** [subcommand] or [group, subcommand] under `/llm`; [] for a command of its own. */
  path: readonly string[];
  description: string;
  args: readonly ArgSpec[];
  /** Settings and tenant data: only the caller sees the answer. */
  ephemeral: boolean;
}

export interface RegistrationOptions {
  /**
   * The deployment's longest question (MAX_QUESTION_CHARS). Discord caps string options at
   * 6,000 characters, so `/ask` takes the smaller of the two.
   */
  maxQuestionChars?: number;
}

const typeOf = { word: T.String, text: T.String, choice: T.String, integer: T.Integer, number: T.Number, file: T.Attachment, switch: T.Boolean } as const;

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function optionOf(arg: CoreArg, maxText: number): ArgSpec {
  const option: ArgSpec = { name: arg.name, description: arg.description, type: typeOf[arg.kind], required: arg.required ?? false };
  if (arg.kind === 'choice') option.choices = arg.choices;
  if (arg.kind === 'integer' || arg.kind === 'number') {
    option.minValue = arg.min;
    if (arg.max !== undefined) option.maxValue = arg.max;
  }
  // Where a core limit exceeds Discord's cap, the smaller one applies; the core checks its own again.
  if (arg.kind === 'word' || arg.kind === 'text') option.maxLength = Math.min(arg.maxLength ?? maxText, maxText);
  return option;
}

function subcommandOf(spec: CommandSpec, opts: RegistrationOptions): SubcommandSpec {
  const maxText = spec.id === 'ask' ? Math.min(opts.maxQuestionChars ?? MAX_STRING_OPTION, MAX_STRING_OPTION) : MAX_STRING_OPTION;
  // Discord requires required options first; among each kind the grammar's order stays.
  const options = spec.args.map((a) => optionOf(a, maxText));
  const ordered = [...options.filter((o) => o.required), ...options.filter((o) => !o.required)];
  const about = capitalize(aboutOf(spec, vocabularies.discord)).replace(/`/g, '');
  return {
    command: spec,
    slash: spec.ownSlashCommand ? spec.words[0]! : 'llm',
    path: spec.ownSlashCommand ? [] : spec.words,
    description: spec.admin ? `${about} (Manage Server)` : about,
    args: ordered,
    ephemeral: spec.private,
  };
}

/** Every slash invocation the registry defines, in the registry's order. */
export function slashCommands(opts: RegistrationOptions = {}): SubcommandSpec[] {
  return commandSpecs.map((s) => subcommandOf(s, opts));
}

const all = slashCommands();
export const llmSubcommands: readonly SubcommandSpec[] = all.filter((s) => s.slash === 'llm');
export const askCommand: SubcommandSpec = all.find((s) => s.slash === 'ask')!;

/** Grammar text for an invocation, e.g. "persona create pirate Arr, you are a pirate". */
export function grammarText(spec: SubcommandSpec, values: ArgValues): string {
  return commandText(spec.command, values);
}

/** The spec an interaction names, or undefined for a command this build does not know. */
export function findSpec(command: string, group: string | null, sub: string | null): SubcommandSpec | undefined {
  const path = [group, sub].filter((p): p is string => !!p);
  return all.find((s) => s.slash === command && s.path.length === path.length && s.path.every((p, i) => p === path[i]));
}

function optionJson(a: ArgSpec) {
  return {
    type: a.type,
    name: a.name,
    description: a.description,
    required: a.required,
    ...(a.choices ? { choices: a.choices.map((c) => ({ name: c, value: c })) } : {}),
    ...(a.minValue !== undefined ? { min_value: a.minValue } : {}),
    ...(a.maxValue !== undefined ? { max_value: a.maxValue } : {}),
    ...(a.maxLength !== undefined ? { max_length: a.maxLength } : {}),
  };
}

/** The bulk-overwrite body: each own command (`/ask`), then `/llm` with its groups and subcommands. */
export function commandRegistrationBody(opts: RegistrationOptions = {}) {
  // Guild-only: a DM belongs to no server, so it has no tenant to answer for.
  const guildOnly = { contexts: [0], integration_types: [0] };
  const specs = slashCommands(opts);
  const options: any[] = [];
  for (const s of specs.filter((x) => x.slash === 'llm')) {
    const sub = { type: T.Subcommand, name: s.path.at(-1), description: s.description, options: s.args.map(optionJson) };
    if (s.path.length === 1) {
      options.push(sub);
      continue;
    }
    let group = options.find((o) => o.type === T.SubcommandGroup && o.name === s.path[0]);
    if (!group) {
      group = { type: T.SubcommandGroup, name: s.path[0], description: `${capitalize(s.path[0]!)} commands`, options: [] };
      options.push(group);
    }
    group.options.push(sub);
  }
  const own = specs
    .filter((s) => s.slash !== 'llm')
    .map((s) => ({ name: s.slash, description: s.description, type: 1, options: s.args.map(optionJson), ...guildOnly }));
  const names = options.map((o) => o.name);
  const llmAbout = `${capitalize(names.slice(0, -1).join(', '))} and ${names.at(-1)}`;
  return [...own, { name: 'llm', description: llmAbout, type: 1, options, ...guildOnly }];
}

/** The README's Discord block: one line per slash command or `/llm` group. */
export function commandOverview(): string {
  const show = (a: ArgSpec) => {
    const shown = a.choices ? `${a.name}:(${a.choices.join('|')})` : a.name;
    return a.required ? shown : `[${shown}]`;
  };
  const lines: string[] = [];
  const groups = new Map<string, string[]>();
  for (const s of all) {
    const form = [...s.path.slice(-1), ...s.args.map(show)].join(' ');
    if (s.slash !== 'llm') lines.push(`/${s.slash} ${s.args.map(show).join(' ')}`.trim());
    else if (s.path.length === 1) lines.push(`/llm ${form}`);
    else groups.set(s.path[0]!, [...(groups.get(s.path[0]!) ?? []), form]);
  }
  const grouped = [...groups].map(([group, forms]) => `/llm ${group} ${forms.join(' | ')}`);
  // Own commands first, then groups, then single subcommands: as Discord's picker lists them.
  return [...lines.filter((l) => !l.startsWith('/llm')), ...grouped, ...lines.filter((l) => l.startsWith('/llm'))].join('\n');
}
