/**
 * The audit log as the operator reads it (`npm run admin -- audit`): one tenant's entries, or
 * the newest of every tenant, newest first, as a table or JSON; a bad --limit is refused.
 * (Admins' `audit` chat command is tested in commands.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdmin } from '../src/admin/run.js';
import type { AdminDeps } from '../src/admin/commands.js';
import type { Tenant } from '../src/ports/tenancy.js';
import { captureIo, openAdminWorld, type AdminWorld } from './helpers/admin-world.js';

describe('npm run admin -- audit', () => {
  let world: AdminWorld;
  let deps: AdminDeps;
  let a: Tenant;

  beforeAll(async () => {
    world = await openAdminWorld();
    deps = world.deps;
    a = await deps.tenants.install('slack', 'T0AUDITA');
    const b = await deps.tenants.install('discord', '700000000000000001');
    for (let i = 0; i < 3; i++) await deps.audit.record(a, 'U1', 'channel.mode', { mode: 'all', n: i });
    await deps.audit.record(b, '555', 'persona.create', { name: 'bard' });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("shows one tenant's entries, newest first, and no other tenant's", async () => {
    const io = captureIo();
    expect(await runAdmin(['audit', '--tenant', 'slack:T0AUDITA'], { env: {}, io, deps })).toBe(0);
    const lines = io.stdout.join('\n').split('\n');
    expect(lines[0]).toMatch(/^WHEN\s+ACTOR\s+ACTION\s+DETAIL$/);
    expect(lines.slice(2).map((l) => /"n":(\d)/.exec(l)?.[1])).toEqual(['2', '1', '0']);
    expect(io.stdout.join('')).not.toContain('persona.create');
  });

  it("shows every tenant's newest entries with the tenant, as a table or JSON, up to --limit", async () => {
    const all = captureIo();
    expect(await runAdmin(['audit', '--json'], { env: {}, io: all, deps })).toBe(0);
    const rows = JSON.parse(all.stdout.join('')) as { platform: string; externalId: string; action: string }[];
    expect(rows.map((r) => `${r.platform}:${r.externalId} ${r.action}`)).toEqual([
      'discord:700000000000000001 persona.create',
      'slack:T0AUDITA channel.mode',
      'slack:T0AUDITA channel.mode',
      'slack:T0AUDITA channel.mode',
    ]);
    const two = captureIo();
    expect(await runAdmin(['audit', '--limit', '2'], { env: {}, io: two, deps })).toBe(0);
    const lines = two.stdout.join('\n').split('\n');
    expect(lines[0]).toMatch(/^WHEN\s+TENANT\s+ACTOR\s+ACTION\s+DETAIL$/);
    expect(lines).toHaveLength(4); // header, rule, two entries
  });

  it('refuses a bad --limit and an unknown tenant', async () => {
    const bad = captureIo();
    expect(await runAdmin(['audit', '--limit', '0'], { env: {}, io: bad, deps })).toBe(2);
    expect(bad.stderr.join('')).toMatch(/bad --limit "0"; use a whole number from 1 to 10000/);
    const unknown = captureIo();
    expect(await runAdmin(['audit', '--tenant', 'slack:T0NOBODY'], { env: {}, io: unknown, deps })).toBe(2);
    expect(unknown.stderr.join('')).toMatch(/no tenant slack:T0NOBODY/);
  });
});
