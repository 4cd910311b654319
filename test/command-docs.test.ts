/** The README's command sections are generated from the registry and must not drift from it. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedSections, renderReadme } from '../scripts/readme-sections.js';
import { commandSpecs } from '../src/core/commands/registry.js';
import { syntaxOf } from '../src/core/commands/spec.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README command sections', () => {
  it.each(Object.keys(generatedSections))('the "%s" section matches the registry (run `npm run docs:commands` to update it)', (name) => {
    const section = (doc: string) => doc.slice(doc.indexOf(`<!-- ${name}:start -->`), doc.indexOf(`<!-- ${name}:end -->`));
    expect(section(readme)).toBe(section(renderReadme(readme)));
  });

  it('lists every command of the registry, with who may run it', () => {
    for (const s of commandSpecs) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${syntaxOf(s).replace(/\|/g, '\\|')}\` |`));
      expect(row, s.id).toBeDefined();
      expect(row!.endsWith(s.admin ? '| admin |' : '| everyone |'), s.id).toBe(true);
    }
  });

  it('refuses a README that lost its markers instead of writing the table somewhere else', () => {
    expect(() => renderReadme('# no markers here\n')).toThrow(/markers/);
  });
});
