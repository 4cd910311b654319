/**
 * One owner per embedded data folder: the first process opens the PGlite files and serves them on
 * a socket; later processes go through it. Tried with real processes, real postgres.js clients
 * and concurrent sessions, the way the operator CLI meets a running service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { DataDirHeldError, openDatabase, type Database } from '../src/db/client.js';
import { lockFileOf } from '../src/db/embedded/owner.js';

const folders: string[] = [];
const opened: Database[] = [];
const children: ChildProcess[] = [];

function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'tb-embedded-'));
  folders.push(d);
  return d;
}

async function open(dataDir: string): Promise<Database> {
  const d = await openDatabase({ dataDir });
  opened.push(d);
  return d;
}

const rows = <T>(r: unknown): T[] => (Array.isArray(r) ? (r as T[]) : ((r as { rows: T[] }).rows ?? []));

/** A child process that opens `dataDir`, runs `script` against it, prints RESULT:<json> and waits for a signal. */
function child(dataDir: string, script: string): { proc: ChildProcess; result: Promise<unknown> } {
  const code = `
    import { openDatabase } from ${JSON.stringify(new URL('../src/db/client.ts', import.meta.url).pathname)};
    import { sql } from 'drizzle-orm';
    const database = await openDatabase({ dataDir: ${JSON.stringify(dataDir)} });
    const db = database.db;
    const out = await (async () => { ${script} })();
    process.stdout.write('RESULT:' + JSON.stringify(out) + '\\n');
    process.on('SIGTERM', async () => { await database.close(); process.exit(0); });
    setInterval(() => {}, 1000);
  `;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const result = new Promise<unknown>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /RESULT:(.*)\n/.exec(out);
      if (m) resolve(JSON.parse(m[1]!));
    });
    proc.on('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
  });
  return { proc, result };
}

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of opened.splice(0)) await d.close().catch(() => undefined);
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

describe('embedded database ownership', () => {
  it('lets a second process use the folder through the owner, and each sees the other’s writes at once', async () => {
    const dir = folder();
    const owner = await open(dir);
    await owner.db.execute(sql`create table notes (id serial primary key, body text)`);
    await owner.db.execute(sql`insert into notes (body) values ('from the owner')`);
    const { result } = child(
      dir,
      `await db.execute(sql\`insert into notes (body) values ('from the second process')\`);
       const r = await db.execute(sql\`select body from notes order by id\`);
       return { kind: database.kind, bodies: (Array.isArray(r) ? r : r.rows).map((x) => x.body) };`,
    );
    expect(await result).toEqual({ kind: 'postgres', bodies: ['from the owner', 'from the second process'] });
    const seen = rows<{ body: string }>(await owner.db.execute(sql`select body from notes order by id`));
    expect(seen.map((r) => r.body)).toEqual(['from the owner', 'from the second process']);
  });

  it('keeps concurrent sessions apart: parameterised queries get their own rows and a rollback stays a rollback', async () => {
    const dir = folder();
    const owner = await open(dir);
    await owner.db.execute(sql`create table t (v int)`);
    const socket = JSON.parse((await import('node:fs')).readFileSync(lockFileOf(dir), 'utf8')).socket as string;
    const clients = Array.from({ length: 3 }, () => postgres({ path: socket, max: 3, onnotice: () => {} }));
    try {
      let wrong = 0;
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 600; i++) {
        const c = clients[i % 3]!;
        work.push(c`select ${i}::int as v, ${`s${i}`}::text as s`.then((r) => (r[0]!.v !== i || r[0]!.s !== `s${i}` ? wrong++ : 0)));
      }
      // The service's own transaction rolls back while socket clients commit theirs.
      work.push(
        owner.db
          .transaction(async (tx) => {
            await tx.execute(sql`insert into t values (10)`);
            await new Promise((r) => setTimeout(r, 30));
            throw new Error('roll back');
          })
          .catch(() => undefined),
      );
      for (let k = 0; k < 6; k++) {
        work.push(clients[k % 3]!.begin(async (s) => {
          await s`insert into t values (${k})`;
          await new Promise((r) => setTimeout(r, 5));
          if (k % 2) throw new Error('roll back');
        }).catch(() => undefined));
      }
      await Promise.all(work);
      expect(wrong).toBe(0);
      const kept = rows<{ v: number }>(await owner.db.execute(sql`select v from t order by v`)).map((r) => r.v);
      expect(kept).toEqual([0, 2, 4]);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('a client that leaves while it waits for its turn never blocks the others', async () => {
    const dir = folder();
    const owner = await open(dir);
    const socket = JSON.parse((await import('node:fs')).readFileSync(lockFileOf(dir), 'utf8')).socket as string;
    for (let round = 0; round < 3; round++) {
      // The service holds the session for a while; a client queues a query and leaves at once.
      const busy = owner.db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        await new Promise((r) => setTimeout(r, 150));
      });
      const leaving = postgres({ path: socket, max: 2, onnotice: () => {} });
      const pending = Promise.all([leaving`select 1 as a`, leaving`select 2 as b`]).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
      await leaving.end({ timeout: 0 });
      await Promise.all([busy, pending]);
      // Whoever comes next gets the session.
      const next = postgres({ path: socket, max: 1, onnotice: () => {}, connect_timeout: 3 });
      expect((await next`select ${round}::int as r`)[0]!.r).toBe(round);
      await next.end();
      expect(rows<{ ok: number }>(await owner.db.execute(sql`select 1 as ok`))[0]!.ok).toBe(1);
    }
  });

  it('takes over a folder whose owner died (kill -9) and keeps what it had written', async () => {
    const dir = folder();
    const { proc, result } = child(
      dir,
      `await db.execute(sql\`create table kept (v int)\`);
       await db.execute(sql\`insert into kept values (1), (2)\`);
       return 'ok';`,
    );
    expect(await result).toBe('ok');
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    expect(existsSync(lockFileOf(dir))).toBe(true);
    const next = await open(dir);
    expect(next.kind).toBe('pglite');
    expect(rows<{ v: number }>(await next.db.execute(sql`select v from kept order by v`)).map((r) => r.v)).toEqual([1, 2]);
  });

  it('refuses with one clear line when the owner is alive but cannot be reached', async () => {
    const dir = folder();
    const sleeper = spawn('sleep', ['30']);
    children.push(sleeper);
    writeFileSync(
      lockFileOf(dir),
      JSON.stringify({ pid: sleeper.pid, host: (await import('node:os')).hostname(), socket: join(dir, 'nobody.sock'), startedAt: new Date().toISOString() }),
    );
    const err = await openDatabase({ dataDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirHeldError);
    expect((err as Error).message).toMatch(new RegExp(`in use by process ${sleeper.pid}.*does not answer; stop that process, or if it is gone, delete .*owner\\.json`));
    expect((err as Error).message).not.toContain('\n');
  });

  it('releases the folder on close, so the next process owns it', async () => {
    const dir = folder();
    const first = await open(dir);
    await first.close();
    opened.splice(opened.indexOf(first), 1);
    expect(existsSync(lockFileOf(dir))).toBe(false);
    const second = await open(dir);
    expect(second.kind).toBe('pglite');
  });
});
