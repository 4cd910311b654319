/**
 * Which lines are commands. A command line (a slash command's text, or a line that starts with
 * `/llm`) must be a command: anything else is "unknown command" with the nearest match, never a
 * question for the model. A mention, DM or console line is a command when its first words are a
 * command's words; a near miss (one word off by a typo, and the corrected line would parse) is
 * "unknown command" with the correction; anything else is a question.
 */
import { BotError, ErrorCode } from '../../ports/errors.js';
import { commandSpecs, groupWords, type Command } from './registry.js';
import { parseArgs } from './parse-args.js';
import { editDistance, isTypoOf } from './edit-distance.js';
import { syntaxOf, type CommandSpec } from './spec.js';

/** The rules above, for help and the README. */
export const commandLineRules = [
  'After `/llm` a line must be a command; a word that is none gets "unknown command" and the nearest match.',
  'In a mention or DM a line that starts with a command\'s words runs it, a near miss (`persona lst`, `knowlege list`) gets "unknown command", and anything else is a question.',
];

const PREFIX = /^\/llm(?=\s|$)/i;

export const hasCommandPrefix = (text: string): boolean => PREFIX.test(text.trim());

/** Removes a leading "/llm" so slash text, mentions and console lines read alike. */
export const stripPrefix = (text: string): string => text.trim().replace(PREFIX, '').trim();

/** The line after its first `n` words, inner whitespace and line breaks kept. */
function after(line: string, n: number): string {
  let rest = line;
  for (let i = 0; i < n; i++) rest = rest.replace(/^\S+\s*/, '');
  return rest;
}

const ask = (question: string): Command => ({ id: 'ask', args: { question } });

/**
 * Reads one line. `commandLine`: the line must be a command (slash text, `/llm ...`). Throws a
 * BotError: CommandUsage for a command with bad arguments, CommandUnknown for a line that is
 * meant as a command but names none.
 */
export function readCommand(text: string, options: { commandLine: boolean }): Command {
  const line = stripPrefix(text);
  const typed = line.split(/\s+/).filter(Boolean);
  const words = typed.map((w) => w.toLowerCase());
  if (words.length === 0) return { id: 'help', args: {} };

  const exact = commandSpecs.find((s) => s.words.every((w, i) => words[i] === w));
  if (exact) {
    try {
      return { id: exact.id, args: parseArgs(exact, after(line, exact.words.length)) } as Command;
    } catch (err) {
      // "help me write a poem", "usage of semicolons": in a mention, a one-word command whose
      // arguments do not fit is a question. Two command words ("channel mode") are a command.
      if (!options.commandLine && exact.words.length === 1 && exact.id !== 'ask') return ask(line);
      throw err;
    }
  }
  if (words.length === 1 && groupWords.has(words[0]!)) throw groupUsage(words[0]!);
  const near = nearest(words, line);
  if (options.commandLine) throw unknown(typed, words, near);
  // `ask` is left out: "as I said ..." is a question, not a typo of `ask`.
  if (near && near.fits && near.misses === 1 && near.spec.id !== 'ask') throw unknown(typed, words, near);
  return ask(line);
}

interface Near {
  spec: CommandSpec;
  /** Words that are typos of the command's words. */
  misses: number;
  distance: number;
  /** The line parses once the typos are corrected. */
  fits: boolean;
}

/** The command the line most likely meant: corrected lines that parse first, then fewest and smallest typos. */
function nearest(words: string[], line: string): Near | undefined {
  const found: Near[] = [];
  for (const spec of commandSpecs) {
    if (words.length < spec.words.length) continue;
    let misses = 0;
    let distance = 0;
    const typos = spec.words.every((w, i) => {
      if (words[i] === w) return true;
      misses++;
      distance += editDistance(words[i]!, w);
      return isTypoOf(words[i]!, w);
    });
    if (!typos || misses === 0) continue;
    found.push({ spec, misses, distance, fits: parsesAs(spec, after(line, spec.words.length)) });
  }
  // A stable sort keeps the registry's order among equals.
  return found.sort((a, b) => Number(b.fits) - Number(a.fits) || a.misses - b.misses || a.distance - b.distance)[0];
}

function parsesAs(spec: CommandSpec, rest: string): boolean {
  try {
    parseArgs(spec, rest);
    return true;
  } catch {
    return false;
  }
}

const quoted = (s: string) => `\`${s.replace(/`/g, '').slice(0, 60)}\``;

function unknown(typed: string[], words: string[], near: Near | undefined): BotError {
  const inGroup = groupWords.has(words[0]!) && words.length > 1;
  const shown = typed.slice(0, near ? near.spec.words.length : inGroup ? 2 : 1).join(' ');
  let hint = '';
  if (near) hint = ` Did you mean ${quoted(near.spec.words.join(' '))}?`;
  else if (inGroup) hint = ` ${quoted(words[0]!)} takes: ${subcommandsOf(words[0]!).join(', ')}.`;
  else if (words.length > 1) hint = ' To ask a question, start with `ask`.';
  return new BotError(ErrorCode.CommandUnknown, `Unknown command ${quoted(shown)}.${hint} \`help\` lists the commands.`);
}

const subcommandsOf = (group: string) => commandSpecs.filter((s) => s.words.length > 1 && s.words[0] === group).map((s) => s.words[1]!);

/** `persona` alone: which commands start with it. */
function groupUsage(group: string): BotError {
  const forms = commandSpecs.filter((s) => s.words[0] === group).map((s) => `\`${syntaxOf(s)}\``);
  return new BotError(ErrorCode.CommandUsage, `\`${group}\` needs one more word: ${forms.join(', ')}.`);
}
