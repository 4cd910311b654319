/** `help`: the commands the caller may use, in the platform's words, and how lines are read. */
import type { Vocabulary } from '../../ports/errors.js';
import { commandSpecs } from './registry.js';
import { commandLineRules } from './read-command.js';
import { aboutOf, syntaxOf } from './spec.js';

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function helpText(isAdmin: boolean, vocabulary: Vocabulary, prefix = '/llm '): string {
  const lines = commandSpecs
    .filter((s) => isAdmin || !s.admin)
    .map((s) => `• \`${prefix}${syntaxOf(s)}\` — ${aboutOf(s, vocabulary)}`);
  const footer = isAdmin ? [] : [`${capitalize(vocabulary.admins)} can also change personas, channel behaviour and knowledge.`];
  return ['Here is what you can do:', ...lines, ...commandLineRules, ...footer].join('\n');
}
