/**
 * The tenant export, round trip: two tenants with rows in every tenant table (the same channel
 * ids, user ids and titles in both), one exported through a slow destination; every row the
 * tenant owns appears exactly once, nothing of the other tenant appears, no token or sealed
 * secret appears, and documents carry their text (read back from the vector store for one kept
 * before texts were). The operator command writes the file whole or not at all.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminDeps } from '../src/admin/commands.js';
import { runAdmin } from '../src/admin/run.js';
import { answerJobs, channelSettings, documents, installations, installationUsers, personas, usage } from '../src/db/schema.js';
import { EXPORT_FORMAT, EXPORT_SCHEMA_VERSION, exportTenant } from '../src/governance/export.js';
import { keyOf, notTenantTables, tenantTables } from '../src/governance/tenant-tables.js';
import type { Tenant } from '../src/ports/tenancy.js';
import type { TestDatabase } from './helpers/db.js';
import { openAdminWorld, type AdminWorld } from './helpers/admin-world.js';

/** What a token or a sealed secret looks like in these fixtures: none may leave in an export. */
const SECRET = 'SEALED-xoxb-0000-SECRET';

/** A destination that takes its time, so the export must wait for it (backpressure). */
function slowSink(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 256,
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      setImmediate(done);
    },
  });
  return Object.assign(sink, { text: () => Buffer.concat(chunks).toString('utf8') });
}

const parse = (ndjson: string) =>
  ndjson
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown> & { type: string });

describe('tenant export', () => {
  let world: AdminWorld;
  let t: TestDatabase;
  let deps: AdminDeps;
  let a: Tenant;
  let b: Tenant;
  let folder: string;

  async function fill(tenant: Tenant, marker: string) {
    const db = t.database.db;
    const id = tenant.tenantId;
    await db.insert(installations).values({ tenantId: id, installationKey: `T-${marker}`, installerUserId: 'U1', keyId: SECRET, ciphertext: SECRET });
    await db.insert(installationUsers).values({ tenantId: id, installationKey: `T-${marker}`, userId: 'U2', keyId: SECRET, ciphertext: SECRET });
    await db.insert(personas).values({ tenantId: id, name: 'pirate', systemPrompt: `Arr ${marker}`, createdBy: 'U1' });
    await db.insert(channelSettings).values([{ tenantId: id, channelId: 'C1', mode: 'all' }, { tenantId: id, channelId: 'C2', persona: 'pirate' }]);
    // Enough messages to cross page boundaries, in several channels and threads (the paging key).
    await db.execute(sql`insert into messages (tenant_id, channel_id, thread_id, role, user_id, content)
      select ${id}::uuid, 'C' || (g % 7), case when g % 3 = 0 then '' else 't' || (g % 5) end,
        case when g % 2 = 0 then 'user' else 'assistant' end, 'U' || (g % 4), ${marker} || ' message ' || g
      from generate_series(1, 11000) g`);
    await db.insert(usage).values([{ tenantId: id, day: '2026-11-30', requests: 3 }, { tenantId: id, day: '2026-12-01', requests: 4 }]);
    await deps.audit.record(tenant, 'U1', 'channel.mode', { channel: 'C1', mode: 'all', note: marker });
    await db.insert(answerJobs).values({
      tenantId: id,
      platform: tenant.platform,
      tenantExternalId: tenant.externalId,
      eventId: `ev-${marker}`,
      channelId: 'C1',
      userId: 'U1',
      text: `${marker} question`,
      delivery: { kind: 'interaction' },
      secretsKeyId: SECRET,
      secrets: SECRET,
    });
    const kb = deps.knowledge!.knowledge!;
    await kb.add(tenant, { title: 'Handbook', text: `${marker} handbook: holidays are in August.`, addedBy: 'U1', channels: ['C1'] }, tenant.limits);
    const old = await kb.add(tenant, { title: 'Legacy', text: `${marker} legacy page about parking.`, addedBy: 'U1' }, tenant.limits);
    // As a document added before texts were kept: only its passages in the vector store.
    await db.update(documents).set({ content: null }).where(eq(documents.id, old.document.id));
  }

  beforeAll(async () => {
    world = await openAdminWorld();
    ({ t, deps } = world);
    a = await deps.tenants.install('slack', 'T0EXPORTA', { name: 'Alpha' });
    b = await deps.tenants.install('slack', 'T0EXPORTB', { name: 'Beta' });
    await fill(a, 'ALPHA-ONLY');
    await fill(b, 'BETA-ONLY');
    folder = mkdtempSync(join(tmpdir(), 'export-'));
  });
  afterAll(async () => {
    rmSync(folder, { recursive: true, force: true });
    await world?.close();
  });

  it('every table with a tenant_id column is exported (or listed with why not)', async () => {
    const result = (await t.database.db.execute(
      sql`select distinct table_name from information_schema.columns where column_name = 'tenant_id' and table_schema = 'public'`,
    )) as unknown as { table_name: string }[] | { rows: { table_name: string }[] };
    // postgres.js returns the rows, PGlite an object holding them.
    const rows = Array.isArray(result) ? result : result.rows;
    const listed = new Set([...tenantTables.map((x) => x.name), ...Object.keys(notTenantTables)]);
    for (const r of rows) expect(listed.has(r.table_name), `${r.table_name} is a tenant table missing from src/governance/tenant-tables.ts`).toBe(true);
    expect(rows.length).toBeGreaterThanOrEqual(tenantTables.length);
  });

  it('writes every row the tenant owns exactly once, nothing of another tenant, and no token', async () => {
    const out = slowSink();
    const progress: number[] = [];
    const summary = await exportTenant({ db: t.database.db, passages: deps.passages! }, a, out, (p) => progress.push(p.done));
    out.end();
    const text = out.text();
    const records = parse(text);

    const [header] = records;
    expect(header).toMatchObject({ type: 'header', format: EXPORT_FORMAT, schemaVersion: EXPORT_SCHEMA_VERSION, tenant: { id: a.tenantId, platform: 'slack', externalId: 'T0EXPORTA' } });
    expect(new Date(String(header!.exportedAt)).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(records.at(-1)).toMatchObject({ type: 'end', rows: summary.rows, total: summary.total });
    expect(records.filter((r) => r.type === 'tenant')).toEqual([expect.objectContaining({ id: a.tenantId, name: 'Alpha' })]);

    // Every row of every tenant table, by its key, once.
    for (const table of tenantTables) {
      const keys = table.key.map((c) => keyOf(table.table, c));
      const keyOfRow = (r: Record<string, unknown>) => JSON.stringify(keys.map((k) => r[k]));
      const inDb = (await t.database.db.select().from(table.table).where(eq(table.table.tenantId, a.tenantId))) as Record<string, unknown>[];
      const exported = records.filter((r) => r.type === table.type);
      expect(exported.map(keyOfRow).sort(), table.name).toEqual(inDb.map(keyOfRow).sort());
      expect(new Set(exported.map(keyOfRow)).size, `${table.name} rows exported twice`).toBe(exported.length);
      expect(summary.rows[table.type]).toBe(inDb.length);
      for (const r of exported) expect(r.tenantId).toBe(a.tenantId);
    }
    expect(summary.rows.message).toBe(11_000);
    expect(progress.at(-1)).toBe(summary.total - 1); // everything but the tenant row itself

    expect(text).not.toContain(b.tenantId);
    expect(text).not.toContain('BETA-ONLY');
    expect(text).not.toContain(SECRET);
    for (const r of records.filter((x) => ['installation', 'installation_user', 'answer_job'].includes(x.type))) {
      expect(Object.keys(r)).not.toEqual(expect.arrayContaining(['ciphertext']));
      expect(r).not.toHaveProperty('keyId');
      expect(r).not.toHaveProperty('secrets');
      expect(r).not.toHaveProperty('secretsKeyId');
    }
    // No vectors: nothing shaped like an embedding.
    expect(text).not.toMatch(/\[(-?\d+\.\d+,){20}/);
  });

  it('documents carry their text and channels; one kept before texts were carries its passages', async () => {
    const out = slowSink();
    await exportTenant({ db: t.database.db, passages: deps.passages! }, a, out);
    out.end();
    const docs = parse(out.text()).filter((r) => r.type === 'document');
    expect(docs.find((d) => d.title === 'Handbook')).toMatchObject({ content: 'ALPHA-ONLY handbook: holidays are in August.', channels: ['C1'] });
    const legacy = docs.find((d) => d.title === 'Legacy')!;
    expect(legacy.content).toBeNull();
    expect((legacy.passages as string[]).join(' ')).toContain('ALPHA-ONLY legacy page about parking.');
  });

  it('npm run admin -- tenants export writes the file (mode 0600) whole, audited, and never overwrites one', async () => {
    const file = join(folder, 'alpha.ndjson');
    const io = { stdout: [] as string[], stderr: [] as string[], out: (x: string) => io.stdout.push(x), err: (x: string) => io.stderr.push(x), progress: new Writable({ write: (_c, _e, d) => d() }) };
    expect(await runAdmin(['tenants', 'export', 'slack', 'T0EXPORTA', '--out', file], { env: {}, io, deps })).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}.partial`)).toBe(false);
    const records = parse(readFileSync(file, 'utf8'));
    expect(records.at(-1)).toMatchObject({ type: 'end' });
    expect(io.stdout.join('\n')).toMatch(/Exported slack:T0EXPORTA to .*alpha\.ndjson: 11,0\d\d records/);
    expect((await deps.audit.recent(a, 1))[0]).toMatchObject({ actor: 'operator', action: 'tenant.export' });

    const again = { ...io, stderr: [] as string[], err: (x: string) => again.stderr.push(x) };
    expect(await runAdmin(['tenants', 'export', 'slack', 'T0EXPORTA', '--out', file], { env: {}, io: again, deps })).toBe(2);
    expect(again.stderr.join('')).toMatch(/exists; choose another --out/);
    const none = { ...io, stderr: [] as string[], err: (x: string) => none.stderr.push(x) };
    expect(await runAdmin(['tenants', 'export', 'slack', 'T0EXPORTA'], { env: {}, io: none, deps })).toBe(2);
    expect(none.stderr.join('')).toMatch(/missing --out FILE/);
    const unknown = join(folder, `${randomUUID()}.ndjson`);
    expect(await runAdmin(['tenants', 'export', 'slack', 'T0NOBODY', '--out', unknown], { env: {}, io: none, deps })).toBe(2);
    expect(existsSync(unknown) || existsSync(`${unknown}.partial`)).toBe(false);
  });

  it('a destination that fails leaves no file under the name asked for', async () => {
    const file = join(folder, 'missing-dir', 'x.ndjson');
    const io = { out: () => {}, err: () => {}, progress: new Writable({ write: (_c, _e, d) => d() }) };
    expect(await runAdmin(['tenants', 'export', 'slack', 'T0EXPORTA', '--out', file], { env: {}, io, deps })).toBe(1);
    expect(existsSync(file)).toBe(false);
  });
});
