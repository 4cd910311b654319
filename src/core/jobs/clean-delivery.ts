/**
 * What arrives from a platform is cleaned once, before it is stored: NUL characters (Postgres
 * refuses them in text and JSON, which used to lose the question with "Something went wrong")
 * are dropped everywhere, and a question longer than the limit is cut to one character past it,
 * so it is never stored whole and the engine can still tell that it was too long.
 */
import type { NewDelivery } from '../../ports/jobs.js';

// eslint-disable-next-line no-control-regex
const NUL = /\u0000/g;

export function stripNul<T>(value: T): T {
  if (typeof value === 'string') return value.replace(NUL, '') as T;
  if (Array.isArray(value)) return value.map(stripNul) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [stripNul(k), stripNul(v)])) as T;
  }
  return value;
}

export function cleanDelivery(d: NewDelivery, maxQuestionChars: number): NewDelivery {
  const clean = stripNul(d);
  return clean.text.length > maxQuestionChars + 1 ? { ...clean, text: clean.text.slice(0, maxQuestionChars + 1) } : clean;
}
