/** The README's chat command table, generated from the registry (`npm run docs:commands`). */
import { vocabularies } from '../../ports/errors.js';
import { commandSpecs } from './registry.js';
import { commandLineRules } from './read-command.js';
import { aboutOf, syntaxOf, type ArgSpec, type CommandSpec } from './spec.js';

/** A pipe inside a table cell ends the cell unless escaped. */
const cell = (s: string) => s.replace(/\|/g, '\\|');

function limitOf(arg: ArgSpec): string | null {
  switch (arg.kind) {
    case 'integer':
    case 'number':
      return arg.max === undefined ? `${arg.label} ${arg.min} or more` : `${arg.label} ${arg.min}–${arg.max}`;
    case 'word':
      return arg.rule ? `${arg.label} ${arg.rule}` : arg.maxLength ? `${arg.label} up to ${arg.maxLength} characters` : null;
    case 'text':
      return arg.maxLength ? `${arg.label} up to ${arg.maxLength} characters` : null;
    default:
      return null;
  }
}

const limitsOf = (spec: CommandSpec) => spec.args.map(limitOf).filter(Boolean).join('; ');

export function commandTable(): string {
  const rows = commandSpecs.map((s) => {
    const about = aboutOf(s, vocabularies.slack) + (s.notes ? ` (${s.notes})` : '');
    return `| \`${cell(syntaxOf(s))}\` | ${cell(about)} | ${cell(limitsOf(s))} | ${s.admin ? 'admin' : 'everyone'} |`;
  });
  const header = ['| command | what it does | limits | who |', '| --- | --- | --- | --- |'];
  return [...header, ...rows, '', ...commandLineRules.map((r) => `- ${r}`)].join('\n');
}
