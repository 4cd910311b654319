/**
 * Who owns an embedded data folder. Exactly one process opens the PGlite files; it writes
 * `owner.json` (pid, socket, start time) with an exclusive create, and every other process reads
 * it to reach the database through the owner's socket. A lock whose pid is gone (kill -9, a
 * crash) is stale and is taken over.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface OwnerRecord {
  pid: number;
  host: string;
  /** Unix socket the owner serves the database on. */
  socket: string;
  startedAt: string;
}

export type Ownership =
  | { kind: 'owner'; record: OwnerRecord; release(): void }
  | { kind: 'held'; record: OwnerRecord; lockFile: string };

export function lockFileOf(dataDir: string): string {
  return join(resolve(dataDir), 'owner.json');
}

/**
 * Where the owner listens: inside the data folder when the path is short enough for a unix
 * socket (about 100 bytes), else a folder under the system temp dir named after it.
 */
export function socketPathOf(dataDir: string): string {
  const inside = join(resolve(dataDir), 'db.sock');
  if (Buffer.byteLength(inside) < 100) return inside;
  const id = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `tenantbot-${id}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, 'db.sock');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Moves a stale lock aside. Two processes may find the same stale lock at once: a rename moves
 * exactly one file, and a lock that turns out to be fresh (the other process already replaced
 * the stale one) is put back.
 */
function removeStale(file: string, stale: OwnerRecord): void {
  const aside = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = readRecord(aside);
  if (moved && (moved.pid !== stale.pid || moved.startedAt !== stale.startedAt)) {
    try {
      linkSync(aside, file);
    } catch {
      // Yet another process took the lock meanwhile; it stays theirs.
    }
  }
  rmSync(aside, { force: true });
}

function readRecord(file: string): OwnerRecord | null {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as OwnerRecord;
    return typeof r.pid === 'number' && typeof r.socket === 'string' ? r : null;
  } catch {
    return null;
  }
}

/** Takes the folder if nobody (alive) holds it; otherwise says who does. */
export function acquireOwnership(dataDir: string, now: () => Date = () => new Date()): Ownership {
  mkdirSync(resolve(dataDir), { recursive: true });
  const file = lockFileOf(dataDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    const record: OwnerRecord = { pid: process.pid, host: hostname(), socket: socketPathOf(dataDir), startedAt: now().toISOString() };
    // Written whole to a private file, then linked into place: link() fails if the lock exists,
    // so the record appears atomically and complete, and only one process can win.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record, null, 2), { mode: 0o600 });
    try {
      linkSync(tmp, file);
      return {
        kind: 'owner',
        record,
        release() {
          // Only ever remove our own record.
          if (readRecord(file)?.pid === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
    const held = readRecord(file);
    if (!held) throw new Error(`${file} is unreadable; if no process uses ${resolve(dataDir)}, delete that file`);
    // A record of a process on this machine that is gone (kill -9, a crash) is stale.
    if (held.host === hostname() && !alive(held.pid)) {
      removeStale(file, held);
      continue;
    }
    return { kind: 'held', record: held, lockFile: file };
  }
  throw new Error(`could not take the lock ${file}; another process keeps taking it`);
}
