/**
 * Reads a command's arguments from the text after its words, by its spec: tokens in the
 * grammar's order, `--flag value` options before a trailing text argument, then each value
 * checked against its limits. Whatever does not fit is a usage error that says what is wrong
 * and shows the syntax, so bad input is never guessed at.
 */
import { BotError, ErrorCode } from '../../ports/errors.js';
import { ArgProblem, flagOf, syntaxOf, type ArgSpec, type ArgValues, type CommandSpec } from './spec.js';

export function usageError(spec: CommandSpec, problem: string): BotError {
  return new BotError(ErrorCode.CommandUsage, `${problem}\nUsage: \`${syntaxOf(spec)}\``);
}

/** The arguments of `spec` in `rest`, converted and checked; throws a CommandUsage BotError. */
export function parseArgs(spec: CommandSpec, rest: string): ArgValues {
  try {
    return checkValues(spec, spec.parse ? spec.parse(rest) : readTokens(spec, rest));
  } catch (err) {
    if (err instanceof ArgProblem) throw usageError(spec, err.message);
    throw err;
  }
}

function readTokens(spec: CommandSpec, rest: string): ArgValues {
  const values: ArgValues = {};
  const flags = new Map(spec.args.filter((a) => a.flag || a.kind === 'switch').map((a) => [flagOf(a), a]));
  let s = rest.trim();
  const takeFlags = () => {
    for (let m = /^(--\S+)(?:\s+|$)/.exec(s); m && flags.size > 0; m = /^(--\S+)(?:\s+|$)/.exec(s)) {
      const arg = flags.get(m[1]!.toLowerCase());
      if (!arg) throw new ArgProblem(`There is no option \`${m[1]}\`.`);
      s = s.slice(m[0].length);
      if (arg.kind === 'switch') {
        values[arg.name] = true;
        continue;
      }
      const value = /^(\S+)\s*/.exec(s);
      if (!value || value[1]!.startsWith('--')) throw new ArgProblem(`\`${flagOf(arg)}\` needs a value.`);
      values[arg.name] = value[1];
      s = s.slice(value[0].length);
    }
  };
  for (const arg of spec.args) {
    if (arg.flag || arg.kind === 'file' || arg.kind === 'switch') continue;
    takeFlags();
    if (arg.kind === 'text') {
      if (s) values[arg.name] = s;
      s = '';
      continue;
    }
    const token = /^(\S+)\s*/.exec(s);
    if (token) {
      values[arg.name] = token[1];
      s = s.slice(token[0].length);
    }
  }
  takeFlags();
  if (s) {
    const command = `\`${spec.words.join(' ')}\``;
    throw new ArgProblem(spec.args.length ? `${command} does not take \`${s.split(/\s+/)[0]}\` there.` : `${command} takes no arguments.`);
  }
  return values;
}

function checkValues(spec: CommandSpec, raw: ArgValues): ArgValues {
  const out: ArgValues = {};
  for (const arg of spec.args) {
    if (arg.kind === 'file') continue;
    const given = raw[arg.name];
    if (arg.kind === 'switch') {
      if (given === true || given === 'true') out[arg.name] = true;
      else if (given !== undefined && given !== false && given !== 'false') throw new ArgProblem(`\`${flagOf(arg)}\` takes no value.`);
      continue;
    }
    if (given === undefined || String(given).trim() === '') {
      if (arg.required) throw new ArgProblem(`The ${arg.label} is missing.`);
      continue;
    }
    out[arg.name] = checkValue(arg, given);
  }
  return out;
}

function checkValue(arg: Exclude<ArgSpec, { kind: 'file' | 'switch' }>, given: string | number | boolean): string | number {
  const text = String(given).trim();
  switch (arg.kind) {
    case 'integer':
    case 'number': {
      const n = Number(text);
      const whole = arg.kind === 'integer';
      const range = arg.max === undefined ? `${arg.min} or more` : whole ? `from ${arg.min} to ${arg.max}` : `between ${arg.min} and ${arg.max}`;
      if (!Number.isFinite(n) || (whole && !Number.isInteger(n)) || n < arg.min || (arg.max !== undefined && n > arg.max)) {
        throw new ArgProblem(`The ${arg.label} must be ${whole ? 'a whole number' : 'a number'} ${range}.`);
      }
      return n;
    }
    case 'choice': {
      const choice = arg.choices.find((c) => c === text.toLowerCase());
      if (!choice) throw new ArgProblem(`The ${arg.label} is one of: ${arg.choices.join(', ')}.`);
      return choice;
    }
    case 'word': {
      const word = arg.lowercase ? text.toLowerCase() : text;
      if (/\s/.test(word)) throw new ArgProblem(`The ${arg.label} is one word (no spaces).`);
      if (arg.pattern && !arg.pattern.test(word)) throw new ArgProblem(`The ${arg.label} is ${arg.rule ?? 'not valid'}.`);
      if (arg.maxLength !== undefined && word.length > arg.maxLength) {
        throw new ArgProblem(`The ${arg.label} is at most ${arg.maxLength} characters.`);
      }
      return word;
    }
    case 'text':
      if (arg.maxLength !== undefined && text.length > arg.maxLength) {
        throw new ArgProblem(`The ${arg.label} is 1–${arg.maxLength} characters.`);
      }
      return text;
  }
}
