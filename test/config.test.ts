import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadConfig } from '../src/config.js';

describe('config', () => {
  it('has working defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.PUBLIC_URL).toBe('http://localhost:3000');
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.OLLAMA_HOST).toBe('http://127.0.0.1:11434');
  });

  it.each([
    [{ PORT: 'eighty' }, /^invalid configuration: PORT must be a whole number from 0 to 65535 \(got "eighty"\)$/],
    [{ OLLAMA_HOST: 'not a url' }, /OLLAMA_HOST must be a URL/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a postgres:\/\/ URL/],
    [{ ENCRYPTION_KEY: 'c2hvcnQ=' }, /ENCRYPTION_KEY must be a 32-byte key/],
    [{ OLLAMA_PARALLEL: '0' }, /OLLAMA_PARALLEL must be a whole number from 1/],
    [{ SLACK_SIGNING_SECRET: 'x' }, /must be set together/],
  ])('names the variable and what it expects: %o', (env, re) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(re);
  });

  it('stops `npm start` with one line and a non-zero exit', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('invalid configuration: PORT must be a whole number from 0 to 65535 (got "eighty")');
  });
});
