/**
 * What a chat command is made of, as data: its words, its arguments with their limits, who may
 * run it and how it reads in help. Parsing, help, the README table and the Discord slash
 * commands are all derived from these specs, so a command is declared in one place.
 */

import type { Vocabulary } from '../../ports/errors.js';

/** Why a command's arguments do not fit; the parser adds the usage line. */
export class ArgProblem extends Error {}

interface ArgBase {
  /** Also the Discord option name: lowercase, `_` between words. */
  name: string;
  /** What the value is, in error messages ("The persona name is ..."). */
  label: string;
  /** One line for Discord's option list (at most 100 characters). */
  description: string;
  required?: boolean;
  /** Given as `--name value` (`-` for `_`) before a trailing text argument, in any order. */
  flag?: boolean;
  /** How help shows the value; default `<name>`. */
  placeholder?: string;
}

/** One token without spaces (a name, an id). */
export interface WordArg extends ArgBase {
  kind: 'word';
  pattern?: RegExp;
  /** What `pattern` allows, in words ("1–32 characters: ..."). */
  rule?: string;
  maxLength?: number;
  lowercase?: boolean;
}

/** The rest of the line, line breaks kept (a prompt, a question). */
export interface TextArg extends ArgBase {
  kind: 'text';
  maxLength?: number;
}

export interface NumberArg extends ArgBase {
  kind: 'integer' | 'number';
  min: number;
  /** No upper bound when absent (a page number). */
  max?: number;
}

export interface ChoiceArg extends ArgBase {
  kind: 'choice';
  choices: readonly string[];
}

/** A file attached to the message; never part of the text. */
export interface FileArg extends ArgBase {
  kind: 'file';
}

/** An option without a value, given as `--name` (Discord: a true/false option). */
export interface SwitchArg extends ArgBase {
  kind: 'switch';
}

export type ArgSpec = WordArg | TextArg | NumberArg | ChoiceArg | FileArg | SwitchArg;

/** Argument values by name, as a platform hands them over or the parser reads them (a switch is `true`). */
export type ArgValues = Record<string, string | number | boolean | undefined>;

export interface CommandSpec {
  /** Stable id, the words joined by dots: handlers are keyed by it. */
  id: string;
  /** What the user types first: `['persona', 'create']`. */
  words: readonly string[];
  /** In the grammar's order. */
  args: readonly ArgSpec[];
  /** Changes settings or shows workspace-wide data. */
  admin: boolean;
  /** Only the caller sees the reply, where the platform allows it. */
  private: boolean;
  /** One line for help and for Discord's subcommand list (at most 80 characters). */
  about: string | ((v: Vocabulary) => string);
  /** More for the README's table only. */
  notes?: string;
  /** Lines that must parse to this command (tested). */
  examples: readonly string[];
  /**
   * Reads the arguments where the generic reading (tokens in order, flags, trailing text) does
   * not fit; throws ArgProblem for input that does not fit.
   */
  parse?: (rest: string) => ArgValues;
  /** Help's syntax, needed with `parse`; otherwise derived from `args`. */
  syntax?: string;
  /** Grammar text from named values (a Discord invocation), where words-then-values does not fit. */
  fromValues?: (values: ArgValues) => string;
  /** On Discord a slash command of its own (`/ask`) rather than a `/llm` subcommand. */
  ownSlashCommand?: boolean;
}

type ValueOf<A extends ArgSpec> = A extends ChoiceArg
  ? A['choices'][number]
  : A extends NumberArg
    ? number
    : A extends SwitchArg
      ? boolean
      : string;
type Valued<As extends readonly ArgSpec[]> = Exclude<As[number], FileArg>;

/** The typed arguments a parsed command carries (files arrive as attachments, not values). */
export type ArgsOf<As extends readonly ArgSpec[]> = {
  [A in Extract<Valued<As>, { required: true }> as A['name']]: ValueOf<A>;
} & {
  [A in Exclude<Valued<As>, { required: true }> as A['name']]?: ValueOf<A>;
};

/** The one-line description in the platform's words. */
export const aboutOf = (spec: CommandSpec, v: Vocabulary): string => (typeof spec.about === 'function' ? spec.about(v) : spec.about);

/** `--max-tokens` for `max_tokens`. */
export const flagOf = (arg: ArgSpec): string => `--${arg.name.replace(/_/g, '-')}`;

function placeholderOf(arg: ArgSpec): string {
  if (arg.placeholder) return arg.placeholder;
  if (arg.kind === 'choice') return arg.choices.join('|');
  return `<${arg.name.replace(/_/g, ' ')}>`;
}

/** The syntax help and the README show: `persona create <name> [--model M] ... <system prompt>`. */
export function syntaxOf(spec: CommandSpec): string {
  if (spec.syntax) return spec.syntax;
  const parts: string[] = [...spec.words];
  for (const arg of spec.args) {
    if (arg.kind === 'file') continue;
    const shown = arg.kind === 'switch' ? flagOf(arg) : arg.flag ? `${flagOf(arg)} ${placeholderOf(arg)}` : placeholderOf(arg);
    parts.push(arg.required ? shown : `[${shown}]`);
  }
  return parts.join(' ');
}
