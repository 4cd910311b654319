/**
 * The README sections generated from code, each between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->` markers: the chat command table (from the core's registry) and the
 * Discord command overview (from the adapter's derived slash commands).
 */
import { commandTable } from '../src/core/commands/docs.js';
import { commandOverview } from '../adapters/discord/commands.js';

export const generatedSections: Record<string, () => string> = {
  commands: commandTable,
  'discord-commands': () => ['```', commandOverview(), '```'].join('\n'),
};

/** The README with every generated section rewritten; throws if a marker pair is missing. */
export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, render] of Object.entries(generatedSections)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md lacks the ${start} ... ${end} markers`);
    out = `${out.slice(0, from + start.length)}\n${render()}\n${out.slice(to)}`;
  }
  return out;
}
