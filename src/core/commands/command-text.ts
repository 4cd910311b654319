/**
 * The grammar text for a command given as named values (a Discord invocation), the inverse of
 * parseArgs: its words, then each value in the grammar's order, flags as `--flag value`. The
 * result goes through the same parser as typed text, so every platform obeys one grammar.
 */
import { flagOf, type ArgValues, type CommandSpec } from './spec.js';
import { usageError } from './parse-args.js';

export function commandText(spec: CommandSpec, values: ArgValues): string {
  if (spec.fromValues) return spec.fromValues(values);
  const parts: string[] = [...spec.words];
  for (const arg of spec.args) {
    const v = values[arg.name];
    if (v === undefined || arg.kind === 'file') continue;
    if (arg.kind === 'switch') {
      if (v === true || v === 'true') parts.push(flagOf(arg));
      continue;
    }
    const value = String(v).trim();
    // A space inside a one-token value would shift every later argument.
    if (arg.kind !== 'text' && /\s/.test(value)) throw usageError(spec, `The ${arg.label} is one word (no spaces).`);
    parts.push(arg.flag ? `${flagOf(arg)} ${value}` : value);
  }
  return parts.join(' ');
}
