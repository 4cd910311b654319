/**
 * The real `admin` CLI as an operator runs it: a separate process (npx tsx src/admin/cli.ts)
 * opening the database named by DATABASE_URL, or, without a test server, an embedded PGlite
 * folder given by DATA_DIR.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { TenantRegistry } from '../src/tenancy/registry.js';
import { createTestDatabase, testDatabaseUrl, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startFakeQdrant, type FakeQdrant } from './fakes/qdrant.js';

const run = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  /** stderr without npm's own warnings about the machine's npm config. */
  stderr: string;
}

describe('admin CLI process', () => {
  let t: TestDatabase | undefined;
  let dataDir: string | undefined;
  let env: NodeJS.ProcessEnv;
  let ollama: FakeOllama;
  let qdrant: FakeQdrant;

  async function cli(...args: string[]): Promise<CliResult> {
    const clean = (s: string) =>
      s
        .split('\n')
        .filter((l) => l && !l.startsWith('npm warn'))
        .join('\n');
    try {
      const r = await run('npx', ['tsx', 'src/admin/cli.ts', ...args], { env, cwd: process.cwd(), timeout: 60_000 });
      return { code: 0, stdout: r.stdout, stderr: clean(r.stderr) };
    } catch (err: any) {
      if (typeof err.code !== 'number') throw err;
      return { code: err.code, stdout: err.stdout, stderr: clean(err.stderr) };
    }
  }

  beforeAll(async () => {
    [ollama, qdrant] = await Promise.all([startFakeOllama(), startFakeQdrant()]);
    const base: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', OLLAMA_HOST: ollama.url, QDRANT_URL: qdrant.url };
    delete base.DATABASE_URL;
    delete base.DATA_DIR;
    let database: Database;
    if (testDatabaseUrl()) {
      t = await createTestDatabase();
      database = t.database;
      env = { ...base, DATABASE_URL: t.url };
    } else {
      // PGlite is single-process: seed the folder, close it, then let the CLI open it.
      dataDir = mkdtempSync(join(tmpdir(), 'admin-cli-'));
      database = await openDatabase({ dataDir });
      await migrate(database);
      env = { ...base, DATA_DIR: dataDir };
    }
    const registry = new TenantRegistry(database.db);
    await registry.install('slack', 'TCLI0001', { name: 'Acme Corp' });
    await registry.install('discord', '4242', { name: 'Gamers' });
    await registry.setPlan('discord', '4242', 'team', { maxConcurrent: 3 });
    if (dataDir) await database.close();
  }, 120_000);
  afterAll(async () => {
    await Promise.all([ollama?.close(), qdrant?.close()]);
    await t?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists tenants as a table', async () => {
    const r = await cli('tenants', 'list');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PLATFORM\s+EXTERNAL ID\s+NAME\s+STATUS\s+PLAN\s+OVERRIDES\s+CREATED$/);
    expect(lines[1]).toMatch(/^-+( +-+)+$/);
    expect(lines.slice(2)).toHaveLength(2);
    expect(lines[2]).toMatch(/^discord\s+4242\s+Gamers\s+active\s+team\s+maxConcurrent=3\s+\d{4}-\d{2}-\d{2}$/);
    expect(lines[3]).toMatch(/^slack\s+TCLI0001\s+Acme Corp\s+active\s+free\s+none\s+\d{4}-\d{2}-\d{2}$/);
  });

  it('lists tenants as JSON with their effective limits', async () => {
    const r = await cli('tenants', 'list', '--json');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list.map((x: any) => [x.platform, x.externalId, x.plan, x.limits.maxConcurrent])).toEqual([
      ['discord', '4242', 'team', 3],
      ['slack', 'TCLI0001', 'free', 1],
    ]);
  });

  it('backends: probes the configured Ollama and says the service is not running', async () => {
    const r = await cli('backends', '--json', '--service', 'http://127.0.0.1:65534');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.backends).toEqual([
      expect.objectContaining({ url: ollama.url, reachable: true, version: '0.6.8', models: ['llama3.2:3b', 'nomic-embed-text:latest'] }),
    ]);
    expect(report.service).toMatchObject({ url: 'http://127.0.0.1:65534', reachable: false });
  });

  it('refuses bad input with one line and exit code 2', async () => {
    const r = await cli('tenants', 'plan', 'slack', 'TCLI0001', 'gold');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: unknown plan "gold"; plans: free, team, enterprise');
  });

  it('ingests a folder, lists what the tenant holds, and exits 1 naming each refused file, why and the limit', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'admin-cli-ingest-'));
    try {
      writeFileSync(join(folder, 'desks.md'), '# Desks\nDesks are cleared every Friday evening.');
      writeFileSync(join(folder, 'scan.txt'), 'x'.repeat(2 * 1024 * 1024 + 100 * 1024));
      const r = await cli('knowledge', 'ingest', 'slack', 'TCLI0001', folder);
      expect(r.code).toBe(1);
      expect(r.stdout.trimEnd().split('\n')).toEqual([
        'slack:TCLI0001: 1 added, 0 replaced, 1 refused, 1 passage',
        "  refused scan.txt: 2.1 MB is over the tenant's file size limit of 2 MB (maxFileBytes=2097152)",
        'To raise the limit: npm run admin -- tenants limits slack TCLI0001 --set maxFileBytes=<new value>',
      ]);
      const list = await cli('knowledge', 'list', 'slack', 'TCLI0001');
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^[0-9a-f-]{36}\s+desks\.md\s+1\s+\d+ bytes\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+\(all\)$/m);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
