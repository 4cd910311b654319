/** `npm run docs:commands`: rewrites the README's generated command sections from the registry. */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderReadme } from './readme-sections.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = renderReadme(before);
if (after === before) {
  console.log('README.md command sections are up to date');
} else {
  writeFileSync(path, after);
  console.log('README.md command sections rewritten');
}
