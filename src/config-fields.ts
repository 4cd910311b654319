/**
 * The value types of the configuration schema, with the messages an operator reads when a value
 * is wrong, and how a value is shown in such a message: secrets are never echoed (only their
 * length), URLs lose their password.
 */
import { z } from 'zod';
import { plans } from './limits/plans.js';

export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const httpUrl = z.url({ protocol: /^https?$/, message: 'an http:// or https:// URL' });

export const int = (min: number, max: number) =>
  z.coerce.number({ message: `a whole number from ${min} to ${max}` }).int().min(min).max(max);

/** A token or secret as pasted: no spaces or line breaks inside (a common copy-paste slip). */
export const secret = (what: string) => z.string().regex(/^\S+$/, { message: `${what} without spaces or line breaks` });

const strictBase64Key = (v: string) => {
  const raw = Buffer.from(v, 'base64');
  // Buffer.from skips characters it does not know; a key that does not round-trip was mistyped.
  return raw.length === 32 && raw.toString('base64') === v;
};

export const base64Key = z.string().refine(strictBase64Key, { message: 'a 32-byte key in base64 (openssl rand -base64 32)' });

/** "label:base64,label:base64" (a bare "base64" entry is read too): earlier keys while rotating. */
export const oldKeys = z.string().refine(
  (v) =>
    v.split(',').every((entry) => {
      const e = entry.trim();
      const colon = e.indexOf(':');
      if (colon < 0) return strictBase64Key(e);
      return /^[A-Za-z0-9._-]{1,64}$/.test(e.slice(0, colon)) && strictBase64Key(e.slice(colon + 1));
    }),
  { message: 'a comma-separated list of label:base64 entries, each a 32-byte key (openssl rand -base64 32)' },
);

export const planName = z.enum(Object.keys(plans) as [string, ...string[]], {
  message: `one of the plans ${Object.keys(plans).join(', ')}`,
});

/** Ollama's own model name syntax (name[:tag], with a namespace/ if any). */
export const modelName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/]{0,99}(:[A-Za-z0-9._-]{1,64})?$/, { message: 'a model name such as llama3.2:3b' });

/**
 * OLLAMA_HOST as Ollama itself reads it: `host`, `host:port`, `:port` or a full URL. Without a
 * scheme it is http, and without a port 11434 (a URL with a scheme keeps its scheme's port).
 */
export function normalizeOllamaHost(raw: string): string | undefined {
  let v = raw.trim();
  const explicit = /^[a-z][a-z0-9+.-]*:\/\//i.test(v);
  if (v.startsWith(':')) v = `127.0.0.1${v}`;
  if (!explicit) v = `http://${v}`;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (!url.hostname) return undefined;
  if (!explicit && !url.port) url.port = '11434';
  return url.toString().replace(/\/$/, '');
}

/**
 * OLLAMA_HOST: one Ollama address, or a comma-separated list of them (a pool), each read as
 * Ollama reads it. Parses to the normalized URLs in the given order; a backend named twice is
 * refused (it would count its slots twice).
 */
export const ollamaHosts = z.string().transform((v, ctx) => {
  const shown = (entry: string) => redactUrl(entry).replace(/\/$/, '');
  const hosts: string[] = [];
  for (const entry of v.split(',').map((e) => e.trim())) {
    const host = entry ? normalizeOllamaHost(entry) : undefined;
    if (!host) {
      const which = v.includes(',') ? ` (entry "${shown(entry)}" is not one)` : '';
      ctx.addIssue({
        code: 'custom',
        message: `an Ollama address: host, host:port or a URL such as http://127.0.0.1:11434, or a comma-separated list of them${which}`,
      });
      return z.NEVER;
    }
    if (hosts.includes(host)) {
      ctx.addIssue({ code: 'custom', message: `a list of distinct Ollama addresses (${shown(host)} is named twice)` });
      return z.NEVER;
    }
    hosts.push(host);
  }
  return hosts;
});

/** OLLAMA_PARALLEL: one slot count for every backend, or one per backend in OLLAMA_HOST's order. */
export const slotCounts = (min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const counts = v.split(',').map((e) => e.trim());
    if (!counts.every((c) => /^\d+$/.test(c) && Number(c) >= min && Number(c) <= max)) {
      ctx.addIssue({ code: 'custom', message: `a whole number from ${min} to ${max}, or a comma-separated list of them in OLLAMA_HOST's order` });
      return z.NEVER;
    }
    return counts.map(Number);
  });

/**
 * Ollama's keep_alive: a duration as Ollama (Go) reads it ("30m", "1h30m", "90s"), or whole
 * seconds ("600"; "-1" keeps the model loaded, "0" unloads it after each call). Seconds become a
 * number, which is how Ollama expects them.
 */
export const keepAlive = z
  .string()
  .regex(/^(-?\d+|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/, { message: 'a duration such as 30m, 1h or 90s, or whole seconds (-1 keeps the model loaded)' })
  .transform((v): string | number => (/^-?\d+$/.test(v) ? Number(v) : v));

/** Settings whose values are never shown, not even in an error. */
export function isSecretSetting(name: string): boolean {
  return /(_SECRET|_TOKEN|_KEY|_KEYS|PASSWORD)$/.test(name);
}

/** The URL with its password replaced by ***; text that does not parse as a URL is masked the same way. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return value.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/, '$1***@');
  }
}

/** How a setting's value appears in a message: secrets by length only, URLs without password. */
export function showValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'unset';
  if (isSecretSetting(name)) return `a value of ${value.length} characters, not shown`;
  return JSON.stringify(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value);
}
