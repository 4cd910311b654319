/**
 * The configuration as an operator meets it: defaults that work with an empty environment, one
 * line per bad value that names the setting and never shows a secret, OLLAMA_HOST read the way
 * Ollama reads it, `.env` read at start with the real environment winning, and the schema,
 * `.env.example` and the README's settings table listing the same settings.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError, loadConfig, readEnvironment, settingNames } from '../src/config.js';
import { normalizeOllamaHost } from '../src/config-fields.js';

const key = Buffer.alloc(32, 7).toString('base64');

function problem(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('config', () => {
  it('has working defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.PUBLIC_URL).toBe('http://localhost:3000');
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.OLLAMA_HOST).toBe('http://127.0.0.1:11434');
    expect(c.DEFAULT_PLAN).toBe('team');
    expect([c.SHUTDOWN_GRACE_MS, c.RESUME_MAX_AGE_S, c.MAX_QUESTION_CHARS, c.METRICS_TOKEN]).toEqual([25_000, 600, 8000, undefined]);
  });

  it.each([
    [{ PORT: 'eighty' }, /^invalid configuration: PORT must be a whole number from 0 to 65535 \(got "eighty"\)$/],
    [{ OLLAMA_HOST: 'ftp://models.local' }, /OLLAMA_HOST must be an Ollama address: host, host:port or a URL/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a postgres:\/\/ URL/],
    [{ OLLAMA_PARALLEL: '0' }, /OLLAMA_PARALLEL must be a whole number from 1/],
    [{ DEFAULT_PLAN: 'gold' }, /^invalid configuration: DEFAULT_PLAN must be one of the plans free, team, enterprise \(got "gold"\)$/],
    [{ ENCRYPTION_KEY: key, ENCRYPTION_OLD_KEYS: 'old:c2hvcnQ=' }, /ENCRYPTION_OLD_KEYS must be a comma-separated list of label:base64 entries, each a 32-byte key/],
    [{ DISCORD_TOKEN: 't', DISCORD_APPLICATION_ID: '42', DISCORD_SHARD_IDS: '0,4', DISCORD_SHARD_COUNT: '4' }, /DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT \(4\): shard ids count from 0 \(got 4\)/],
    [{ DISCORD_SHARD_COUNT: '4' }, /DISCORD_SHARD_COUNT is set without DISCORD_SHARD_IDS/],
    [{ DISCORD_TOKEN: 't', DISCORD_APPLICATION_ID: '42' }, /ENCRYPTION_KEY must be set .* when Discord is on, to seal the interaction tokens/],
    [{ SLACK_SIGNING_SECRET: 'x' }, /must be set together \(missing SLACK_CLIENT_ID, SLACK_CLIENT_SECRET\)/],
    [{ SLACK_APP_TOKEN: 'xoxb-1' }, /SLACK_APP_TOKEN must be an app-level token starting with xapp-/],
    [{ LOG_LEVEL: 'verbose' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "verbose"\)/],
    [{ MAX_QUESTION_CHARS: '0' }, /MAX_QUESTION_CHARS must be a whole number from 1/],
    [{ QDRANT_API_KEY: 'k' }, /QDRANT_API_KEY is set without QDRANT_URL/],
  ])('names the variable and what it expects: %o', (env, re) => {
    expect(problem(env)).toMatch(re);
  });

  it('never shows a secret in an error, only its length, and hides passwords in URLs', () => {
    const badKey = 'c2VjcmV0LWJ1dC1zaG9ydA==';
    expect(problem({ ENCRYPTION_KEY: badKey })).toBe(
      `invalid configuration: ENCRYPTION_KEY must be a 32-byte key in base64 (openssl rand -base64 32) (got a value of ${badKey.length} characters, not shown)`,
    );
    // A key that decodes to 32 bytes only because Buffer skips the characters it does not know.
    const mangled = `${key.slice(0, 20)}!!${key.slice(20)}`;
    expect(problem({ ENCRYPTION_KEY: mangled })).toContain('got a value of 46 characters, not shown');
    const message = problem({
      DISCORD_TOKEN: 'MTIz secret token',
      DISCORD_APPLICATION_ID: '42',
      METRICS_TOKEN: 'short',
      DATABASE_URL: 'mysql://bot:hunter2@db.local/bot',
      ENCRYPTION_OLD_KEYS: 'old:hunter2',
    });
    expect(message.split('\n')).toHaveLength(4);
    for (const secret of ['MTIz', 'short', 'hunter2']) expect(message).not.toContain(secret);
    expect(message).toContain('DATABASE_URL must be a postgres:// URL (got "mysql://bot:***@db.local/bot")');
    expect(message).toContain('DISCORD_TOKEN must be the bot token without spaces or line breaks (got a value of 17 characters, not shown)');
  });

  it.each([
    ['127.0.0.1:11434', 'http://127.0.0.1:11434'],
    ['ollama', 'http://ollama:11434'],
    ['gpu-box:11500', 'http://gpu-box:11500'],
    [':11500', 'http://127.0.0.1:11500'],
    ['http://ollama.internal', 'http://ollama.internal'],
    ['https://ollama.example.com/', 'https://ollama.example.com'],
    ['[::1]:11434', 'http://[::1]:11434'],
  ])('reads OLLAMA_HOST=%s as Ollama does: %s', (given, url) => {
    expect(normalizeOllamaHost(given)).toBe(url);
    expect(loadConfig({ OLLAMA_HOST: given }).OLLAMA_HOST).toBe(url);
  });

  it('reads OLLAMA_HOST as a comma-separated list of backends, each as Ollama reads it, with OLLAMA_PARALLEL for all or each', () => {
    const one = loadConfig({ OLLAMA_HOST: 'gpu-a, gpu-b:11500 ,https://gpu-c.example.com', OLLAMA_PARALLEL: '3' });
    expect(one.OLLAMA_BACKENDS).toEqual([
      { host: 'http://gpu-a:11434', parallel: 3 },
      { host: 'http://gpu-b:11500', parallel: 3 },
      { host: 'https://gpu-c.example.com', parallel: 3 },
    ]);
    expect(one.OLLAMA_PARALLEL).toBe(9);
    expect(one.OLLAMA_HOST).toBe('http://gpu-a:11434, http://gpu-b:11500, https://gpu-c.example.com');
    const each = loadConfig({ OLLAMA_HOST: ':11434,:11435', OLLAMA_PARALLEL: '2,6' });
    expect(each.OLLAMA_BACKENDS).toEqual([
      { host: 'http://127.0.0.1:11434', parallel: 2 },
      { host: 'http://127.0.0.1:11435', parallel: 6 },
    ]);
    expect(each.OLLAMA_PARALLEL).toBe(8);
    expect(loadConfig({}).OLLAMA_BACKENDS).toEqual([{ host: 'http://127.0.0.1:11434', parallel: 4 }]);
  });

  it.each([
    [{ OLLAMA_HOST: 'gpu-a,gpu-a:11434' }, /^invalid configuration: OLLAMA_HOST must be a list of distinct Ollama addresses \(http:\/\/gpu-a:11434 is named twice\)/],
    [{ OLLAMA_HOST: 'gpu-a,,gpu-b' }, /OLLAMA_HOST must be an Ollama address: .* or a comma-separated list of them \(entry "" is not one\)/],
    [{ OLLAMA_HOST: 'gpu-a,ftp://x' }, /\(entry "ftp:\/\/x" is not one\)/],
    [{ OLLAMA_HOST: 'a,b,c', OLLAMA_PARALLEL: '2,2' }, /^invalid configuration: OLLAMA_PARALLEL lists 2 numbers but OLLAMA_HOST names 3 backend\(s\): give one number for every backend, or one per backend in OLLAMA_HOST's order$/],
    [{ OLLAMA_PARALLEL: '2,x' }, /OLLAMA_PARALLEL must be a whole number from 1 to 256, or a comma-separated list of them in OLLAMA_HOST's order \(got "2,x"\)/],
    [{ OLLAMA_KEEP_ALIVE: 'forever' }, /OLLAMA_KEEP_ALIVE must be a duration such as 30m, 1h or 90s, or whole seconds/],
    [{ OLLAMA_NUM_CTX: '12' }, /OLLAMA_NUM_CTX must be a whole number from 256/],
  ])('refuses a bad backend list in one line per problem: %o', (env, re) => {
    expect(problem(env)).toMatch(re);
  });

  it('pins num_ctx and keep_alive: defaults 8192 and 30m, seconds read as a number', () => {
    expect([loadConfig({}).OLLAMA_NUM_CTX, loadConfig({}).OLLAMA_KEEP_ALIVE]).toEqual([8192, '30m']);
    expect(loadConfig({ OLLAMA_KEEP_ALIVE: '600' }).OLLAMA_KEEP_ALIVE).toBe(600);
    expect(loadConfig({ OLLAMA_KEEP_ALIVE: '-1' }).OLLAMA_KEEP_ALIVE).toBe(-1);
    expect(loadConfig({ OLLAMA_KEEP_ALIVE: '1h30m' }).OLLAMA_KEEP_ALIVE).toBe('1h30m');
  });

  it('reads .env from the working folder, and the real environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
    expect(readEnvironment({ PORT: '1' }, dir)).toEqual({ PORT: '1' });
    writeFileSync(join(dir, '.env'), '# local settings\nPORT=4100\nOLLAMA_HOST=gpu-box:11500\nDEFAULT_PLAN="free"\n');
    const c = loadConfig(readEnvironment({ PORT: '4200' }, dir));
    expect([c.PORT, c.OLLAMA_HOST, c.DEFAULT_PLAN]).toEqual([4200, 'http://gpu-box:11500', 'free']);
  });

  it('stops `npm start` with one line and a non-zero exit, for a bad value in .env or the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dotenv-start-'));
    writeFileSync(join(dir, '.env'), 'PORT=eighty\n');
    const start = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'src/main.ts')], {
        cwd: dir,
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const fromFile = start({});
    expect(fromFile.status).toBe(1);
    expect(fromFile.stderr.trim()).toBe('invalid configuration: PORT must be a whole number from 0 to 65535 (got "eighty")');
    const fromEnv = start({ PORT: 'ninety' });
    expect(fromEnv.status).toBe(1);
    expect(fromEnv.stderr.trim()).toBe('invalid configuration: PORT must be a whole number from 0 to 65535 (got "ninety")');
  });
});

describe('settings documentation', () => {
  const example = readFileSync('.env.example', 'utf8');
  /** Every NAME in .env.example, set or commented out (`# NAME=...`). */
  const exampleNames = [...example.matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('\n## Settings'), readme.indexOf('\n## ', readme.indexOf('\n## Settings') + 1));
  /** Every `NAME` in the first column of the README's settings table. */
  const readmeNames = section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .flatMap((l) => [...l.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));

  it('lists every setting of the schema in .env.example and the README, and nothing else', () => {
    const schema = [...settingNames].sort();
    expect([...new Set(exampleNames)].sort()).toEqual(schema);
    expect([...new Set(readmeNames)].sort()).toEqual(schema);
    expect(exampleNames).toHaveLength(new Set(exampleNames).size);
  });

  it('gives the defaults in .env.example: a copy of it changes nothing', () => {
    expect(loadConfig(parseEnv(example))).toEqual(loadConfig({}));
  });
});
