/**
 * The operator CLI against a real database: plan and limit changes seen by the registry,
 * refusals of bad input, disable/enable, usage per tenant and day, and a purge that removes
 * one tenant's rows and vectors while the other tenant's stay. Knowledge runs on the real
 * Qdrant client against the fake Qdrant, with embeddings from the fake Ollama.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { openAdminContext } from '../src/admin/context.js';
import {
  countTenantRows,
  purgeTenant,
  setEnabled,
  setLimits,
  setPlan,
  showTenant,
  usageReport,
  type AdminDeps,
} from '../src/admin/commands.js';
import { AdminInputError, parseLimitAssignments } from '../src/admin/inputs.js';
import { runAdmin, type AdminIo } from '../src/admin/run.js';
import { ingestForTenant } from '../src/admin/knowledge.js';
import { answerJobs, channelSettings, installations, installationUsers, messages, personas } from '../src/db/schema.js';
import { PostgresAnswerBook } from '../src/answers/answer-book.js';
import { effectiveLimits, plans } from '../src/limits/plans.js';
import { TenantRegistry } from '../src/tenancy/registry.js';
import { UsageMeter } from '../src/usage/meter.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startFakeQdrant, type FakeQdrant } from './fakes/qdrant.js';
import type { Tenant } from '../src/ports/tenancy.js';
import { AuditLog } from '../src/audit/audit-log.js';
import type { KnowledgeBase } from '../src/ports/knowledge.js';

/** Questions asked in a channel that no document is restricted away from. */
const inGeneral = { channelId: 'general', direct: false };

const A = { platform: 'slack' as const, externalId: 'TALPHA' };
const B = { platform: 'discord' as const, externalId: '9000000001' };

function captureIo(): AdminIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), progress: process.stderr };
}

/** Points per tenant in the fake Qdrant's collection. */
function vectorsOf(qdrant: FakeQdrant, tenantId: string): number {
  let n = 0;
  for (const c of qdrant.collections.values()) for (const p of c.points.values()) if (p.payload.tenant_id === tenantId) n++;
  return n;
}

describe('admin commands', () => {
  let t: TestDatabase;
  let ollama: FakeOllama;
  let qdrant: FakeQdrant;
  let deps: AdminDeps;
  let knowledge: KnowledgeBase;
  let tenantA: Tenant;
  let tenantB: Tenant;
  const day1 = new Date('2026-11-20T10:00:00Z');
  const day2 = new Date('2026-11-21T23:59:00Z');

  beforeAll(async () => {
    [t, ollama, qdrant] = await Promise.all([createTestDatabase(), startFakeOllama(), startFakeQdrant()]);
    const config = loadConfig({ QDRANT_URL: qdrant.url, OLLAMA_HOST: ollama.url, LOG_LEVEL: 'silent' });
    deps = (await openAdminContext(config, { logger: createLogger('silent'), database: t.database })).deps;
    knowledge = deps.knowledge!.knowledge!;
    expect(knowledge).toBeDefined();

    const registry = new TenantRegistry(t.database.db);
    tenantA = await registry.install(A.platform, A.externalId, { name: 'Alpha', installedBy: 'U1' });
    tenantB = await registry.install(B.platform, B.externalId, { name: 'Beta' });
    const db = t.database.db;
    for (const [tenant, n] of [[tenantA, 3], [tenantB, 2]] as const) {
      for (let i = 0; i < n; i++) {
        await db.insert(messages).values({ tenantId: tenant.tenantId, channelId: 'C1', role: 'user', userId: 'U1', content: `m${i}` });
      }
      await db.insert(channelSettings).values({ tenantId: tenant.tenantId, channelId: 'C1', mode: 'all' });
      await db.insert(personas).values({ tenantId: tenant.tenantId, name: 'pirate', systemPrompt: 'Arr.' });
      await db.insert(installations).values({
        tenantId: tenant.tenantId,
        installationKey: `key-${tenant.tenantId}`,
        keyId: 'k1',
        ciphertext: 'sealed',
      });
      await db.insert(installationUsers).values({ tenantId: tenant.tenantId, installationKey: `key-${tenant.tenantId}`, userId: 'U2', keyId: 'k1', ciphertext: 'sealed' });
      await db.insert(answerJobs).values({
        tenantId: tenant.tenantId,
        platform: tenant.platform,
        tenantExternalId: tenant.externalId,
        eventId: `ev-${tenant.tenantId}`,
        channelId: 'C1',
        userId: 'U1',
        text: 'a question',
        delivery: {},
      });
      await new AuditLog(db).record(tenant, 'U1', 'channel.mode', { mode: 'all' });
      // An answer given through a job, and a vote on it.
      const [job] = await db
        .insert(answerJobs)
        .values({ tenantId: tenant.tenantId, platform: tenant.platform, tenantExternalId: tenant.externalId, eventId: `answered-${tenant.tenantId}`, channelId: 'C1', userId: 'U1', delivery: {}, state: 'answered' })
        .returning({ id: answerJobs.id });
      const [question] = await db.insert(messages).values({ tenantId: tenant.tenantId, channelId: 'C1', role: 'user', userId: 'U1', content: `question of ${tenant.name}` }).returning({ id: messages.id });
      const book = new PostgresAnswerBook(db);
      await book.record(tenant, { id: job!.id, channelId: 'C1', threadId: null, askerId: 'U1', questionMessageId: question!.id, answerMessageId: null, persona: 'default', sources: ['Handbook'], stopped: false });
      await book.vote(tenant, job!.id, 'U2', 'negative');
      await knowledge.add(tenant, { title: 'Handbook', text: `Handbook of ${tenant.tenantId}: holidays, expenses.`, addedBy: 'U1' }, tenant.limits);
    }
    await new UsageMeter(db, () => day1).record(tenantA, { requests: 2, promptTokens: 100, completionTokens: 50 });
    await new UsageMeter(db, () => day2).record(tenantA, { requests: 1, promptTokens: 10, completionTokens: 5, rejected: 1 });
    await new UsageMeter(db, () => day1).record(tenantB, { requests: 7, promptTokens: 700, completionTokens: 300 });
  });
  afterAll(async () => {
    await Promise.all([t?.drop(), ollama?.close(), qdrant?.close()]);
  });

  it('changes a plan with overrides, visible through a fresh TenantRegistry and effectiveLimits', async () => {
    const change = await setPlan(deps, A, 'team', { set: parseLimitAssignments(['maxConcurrent=3', 'tokensPerDay=123_456']) });
    expect(change.before.plan).toBe('free');
    const seen = await new TenantRegistry(t.database.db).resolve(A.platform, A.externalId);
    expect(seen!.plan).toBe('team');
    expect(seen!.limitOverrides).toEqual({ maxConcurrent: 3, tokensPerDay: 123456 });
    expect(seen!.limits).toEqual(effectiveLimits('team', { maxConcurrent: 3, tokensPerDay: 123456 }));
    expect(seen!.limits.requestsPerMinute).toBe(plans.team!.requestsPerMinute);
    // The other tenant is untouched.
    const other = await new TenantRegistry(t.database.db).resolve(B.platform, B.externalId);
    expect(other!.plan).toBe('free');
    expect(other!.limitOverrides).toEqual({});

    const details = await showTenant(deps, A);
    expect(details.limits.find((l) => l.key === 'maxConcurrent')).toEqual({ key: 'maxConcurrent', value: 3, source: 'override' });
    expect(details.limits.find((l) => l.key === 'maxQueued')).toEqual({ key: 'maxQueued', value: plans.team!.maxQueued, source: 'plan' });
    expect(details.audit[0]).toMatchObject({ actor: 'operator', action: 'plan.set', detail: { from: 'free', to: 'team' } });

    // Overrides survive a later plan change unless cleared; --unset drops one key.
    await setPlan(deps, A, 'enterprise', { unset: ['tokensPerDay'] });
    let now = await new TenantRegistry(t.database.db).resolve(A.platform, A.externalId);
    expect(now!.limitOverrides).toEqual({ maxConcurrent: 3 });
    expect(now!.limits.tokensPerDay).toBe(plans.enterprise!.tokensPerDay);
    await setLimits(deps, A, { clear: true, set: { maxQueued: 7 } });
    now = await new TenantRegistry(t.database.db).resolve(A.platform, A.externalId);
    expect(now!.plan).toBe('enterprise');
    expect(now!.limitOverrides).toEqual({ maxQueued: 7 });
  });

  it('rejects unknown limit keys, bad values and unknown plans without changing anything', async () => {
    const before = await new TenantRegistry(t.database.db).resolve(B.platform, B.externalId);
    expect(() => parseLimitAssignments(['maxWidgets=3'])).toThrow(/unknown limit "maxWidgets"; limits: maxConcurrent, /);
    expect(() => parseLimitAssignments(['maxConcurrent=two'])).toThrow(/bad value for maxConcurrent: "two"/);
    expect(() => parseLimitAssignments(['maxConcurrent=-1'])).toThrow(AdminInputError);
    expect(() => parseLimitAssignments(['maxConcurrent=1.5'])).toThrow(AdminInputError);
    expect(() => parseLimitAssignments(['tokensPerDay=10000000000000'])).toThrow(AdminInputError);
    expect(() => parseLimitAssignments(['maxConcurrent'])).toThrow(/write it as key=value/);
    await expect(setPlan(deps, B, 'gold')).rejects.toThrow('unknown plan "gold"; plans: free, team, enterprise');
    await expect(setLimits(deps, B, { unset: ['nope'] })).rejects.toThrow(/unknown limit "nope"/);
    await expect(setLimits(deps, B, {})).rejects.toThrow(/nothing to change/);
    await expect(setPlan(deps, { platform: 'slack', externalId: 'TNOPE' }, 'team')).rejects.toThrow('no tenant slack:TNOPE');

    const io = captureIo();
    expect(await runAdmin(['tenants', 'plan', 'discord', B.externalId, 'team', '--set', 'maxConcurrent=x'], { env: {}, io, deps })).toBe(2);
    expect(io.stderr).toEqual(['error: bad value for maxConcurrent: "x"; use a whole number from 0 to 1000000000000']);
    expect(await runAdmin(['tenants', 'list', '--yes'], { env: {}, io, deps })).toBe(2);
    expect(io.stderr.at(-1)).toBe('error: --yes does not apply to "tenants list"');
    expect(await runAdmin(['tenants', 'show', 'irc', 'x'], { env: {}, io, deps })).toBe(2);
    expect(io.stderr.at(-1)).toBe('error: unknown platform "irc"; use one of: slack, discord, console');

    const after = await new TenantRegistry(t.database.db).resolve(B.platform, B.externalId);
    expect(after).toEqual(before);
  });

  it('sets a plan through the CLI arguments', async () => {
    const io = captureIo();
    const code = await runAdmin(['tenants', 'plan', 'discord', B.externalId, 'team', '--set', 'maxConcurrent=2', '--set', 'requestsPerMinute=5'], {
      env: {},
      io,
      deps,
    });
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    expect(io.stdout[0]).toContain('discord:9000000001: plan free -> team, overrides maxConcurrent=2 requestsPerMinute=5');
    const seen = await new TenantRegistry(t.database.db).resolve(B.platform, B.externalId);
    expect(seen!.limits).toEqual(effectiveLimits('team', { maxConcurrent: 2, requestsPerMinute: 5 }));
  });

  it('disables and enables a tenant, audited as the operator', async () => {
    const r = await setEnabled(deps, B, false);
    expect(r.after.status).toBe('disabled');
    expect((await new TenantRegistry(t.database.db).resolve(B.platform, B.externalId))!.status).toBe('disabled');
    // A re-install does not lift an operator's disable.
    await new TenantRegistry(t.database.db).install(B.platform, B.externalId, { name: 'Beta' });
    expect((await new TenantRegistry(t.database.db).resolve(B.platform, B.externalId))!.status).toBe('disabled');
    await setEnabled(deps, B, true);
    expect((await new TenantRegistry(t.database.db).resolve(B.platform, B.externalId))!.status).toBe('active');
    const actions = (await new AuditLog(t.database.db).recent(tenantB, 5)).filter((a) => a.actor === 'operator').map((a) => a.action);
    expect(actions.slice(0, 2)).toEqual(['tenant.enable', 'tenant.disable']);
  });

  it('reports usage per tenant and day, only for the tenant asked about', async () => {
    const onlyA = await usageReport(deps, { tenant: A, from: '2026-11-01', to: '2026-11-30' });
    expect(onlyA.rows.map((r) => [`${r.platform}:${r.externalId}`, r.day, r.requests, r.tokens, r.rejected])).toEqual([
      ['slack:TALPHA', '2026-11-20', 2, 150, 0],
      ['slack:TALPHA', '2026-11-21', 1, 15, 1],
    ]);
    const all = await usageReport(deps, { from: '2026-11-20', to: '2026-11-20' });
    expect(all.rows.map((r) => [r.externalId, r.day, r.promptTokens, r.completionTokens])).toEqual([
      ['9000000001', '2026-11-20', 700, 300],
      ['TALPHA', '2026-11-20', 100, 50],
    ]);
    const io = captureIo();
    expect(await runAdmin(['usage', '--tenant', 'discord:9000000001', '--from', '2026-11-01', '--to', '2026-11-30'], { env: {}, io, deps })).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toMatch(/discord:9000000001\s+2026-11-20\s+7\s+700\s+300\s+1,000\s+0/);
    expect(text).not.toContain('TALPHA');
    await expect(usageReport(deps, { from: '2026-11-21', to: '2026-11-20' })).rejects.toThrow(AdminInputError);
  });

  it('ingests a folder into one tenant with progress on the given stream, audited', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'admin-ingest-'));
    try {
      mkdirSync(join(folder, 'sub'));
      writeFileSync(join(folder, 'travel.md'), '# Travel\nTrain tickets are reimbursed in second class.');
      writeFileSync(join(folder, 'sub', 'laptops.txt'), 'Laptops are replaced every four years.');
      writeFileSync(join(folder, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      const progress = new PassThrough();
      const chunks: Buffer[] = [];
      progress.on('data', (c: Buffer) => chunks.push(c));
      const r = await ingestForTenant(deps, B, folder, progress);
      expect([r.added, r.replaced, r.failed.length, r.skipped]).toEqual([2, 0, 0, ['logo.png']]);
      const lines = Buffer.concat(chunks).toString().trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/\[#+\] 2\/2 added travel\.md/);
      const titles = (await knowledge.list(tenantB)).map((d) => d.title).sort();
      expect(titles).toEqual(['Handbook', 'sub/laptops.txt', 'travel.md']);
      expect((await knowledge.list(tenantA)).map((d) => d.title)).toEqual(['Handbook']);
      const audit = await new AuditLog(t.database.db).recent(tenantB, 1);
      expect(audit[0]).toMatchObject({ actor: 'operator', action: 'knowledge.ingest', detail: { added: 2 } });
      await expect(ingestForTenant(deps, B, join(folder, 'missing'))).rejects.toThrow(AdminInputError);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("lists a tenant's documents and removes one by its id prefix, audited as the operator", async () => {
    const io = captureIo();
    expect(await runAdmin(['knowledge', 'list', 'discord', B.externalId], { env: {}, io, deps })).toBe(0);
    const lines = io.stdout.join('\n').split('\n');
    expect(lines[0]).toMatch(/^ID\s+TITLE\s+PASSAGES\s+SIZE\s+ADDED\s+CHANNELS$/);
    const travel = (await knowledge.list(tenantB)).find((d) => d.title === 'travel.md')!;
    const row = new RegExp(`^${travel.id}\\s+travel\\.md\\s+${travel.chunkCount}\\s+${travel.bytes} bytes\\s+\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}\\s+\\(all\\)$`);
    expect(lines.some((l) => row.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('Handbook'))).toBe(true);

    const json = captureIo();
    expect(await runAdmin(['knowledge', 'list', 'discord', B.externalId, '--json'], { env: {}, io: json, deps })).toBe(0);
    expect(JSON.parse(json.stdout[0]!).map((d: { title: string }) => d.title).sort()).toEqual(['Handbook', 'sub/laptops.txt', 'travel.md']);

    expect(await runAdmin(['knowledge', 'remove', 'discord', B.externalId, travel.id.slice(0, 8)], { env: {}, io, deps })).toBe(0);
    expect(io.stdout.at(-1)).toBe(`Removed "travel.md" (${travel.id}, ${travel.chunkCount} passages) from discord:9000000001.`);
    expect((await knowledge.list(tenantB)).map((d) => d.title).sort()).toEqual(['Handbook', 'sub/laptops.txt']);
    const points = [...qdrant.collections.values()].flatMap((c) => [...c.points.values()]);
    expect(points.filter((p) => p.payload.document_id === travel.id)).toHaveLength(0);
    expect((await new AuditLog(t.database.db).recent(tenantB, 1))[0]).toMatchObject({
      actor: 'operator',
      action: 'knowledge.remove',
      detail: { id: travel.id, title: 'travel.md' },
    });

    expect(await runAdmin(['knowledge', 'remove', 'discord', B.externalId, 'deadbeef'], { env: {}, io, deps })).toBe(2);
    expect(io.stderr.at(-1)).toBe('error: no document deadbeef in discord:9000000001; see "knowledge list discord 9000000001"');
    // The other tenant's documents are not reachable through B.
    const handbookA = (await knowledge.list(tenantA))[0]!;
    expect(await runAdmin(['knowledge', 'remove', 'discord', B.externalId, handbookA.id], { env: {}, io, deps })).toBe(2);
    expect((await knowledge.list(tenantA)).map((d) => d.id)).toEqual([handbookA.id]);
  });

  it('ingests a single file, and exits 1 naming each refused file, why and the limit', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'admin-refusals-'));
    const progress = new PassThrough().resume();
    try {
      writeFileSync(join(folder, 'policy.md'), '# Policy\nDesks are cleared every Friday evening.');
      const io = { ...captureIo(), progress };
      expect(await runAdmin(['knowledge', 'ingest', 'discord', B.externalId, join(folder, 'policy.md')], { env: {}, io, deps })).toBe(0);
      expect(io.stdout).toEqual(['discord:9000000001: 1 added, 0 replaced, 0 refused, 1 passage']);
      expect((await knowledge.list(tenantB)).map((d) => d.title)).toContain('policy.md');

      const held = (await knowledge.list(tenantB)).length;
      await setLimits(deps, B, { set: { maxFileBytes: 100, maxDocuments: held + 1 } });
      const batch = join(folder, 'batch');
      mkdirSync(batch);
      writeFileSync(join(batch, 'empty.md'), '   \n');
      writeFileSync(join(batch, 'huge.txt'), 'x'.repeat(300));
      writeFileSync(join(batch, 'ok.txt'), 'Printers are on every floor.');
      writeFileSync(join(batch, 'zz-extra.txt'), 'Coffee is free.');
      const refused = { ...captureIo(), progress };
      expect(await runAdmin(['knowledge', 'ingest', 'discord', B.externalId, batch], { env: {}, io: refused, deps })).toBe(1);
      expect(refused.stdout[0]!.split('\n')).toEqual([
        'discord:9000000001: 1 added, 0 replaced, 3 refused, 1 passage',
        '  refused empty.md: no text could be read from it (empty, damaged, or not really the kind of file its name says)',
        "  refused huge.txt: 300 bytes is over the tenant's file size limit of 100 bytes (maxFileBytes=100)",
        `  refused zz-extra.txt: the tenant already has ${held + 1} documents, its limit (maxDocuments=${held + 1})`,
        'To raise the limit: npm run admin -- tenants limits discord 9000000001 --set maxFileBytes=<new value> --set maxDocuments=<new value>',
      ]);
      expect((await knowledge.list(tenantB)).map((d) => d.title)).toContain('ok.txt');
    } finally {
      await setLimits(deps, B, { unset: ['maxFileBytes', 'maxDocuments'] });
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("reports feedback per tenant with the latest not-helpful answers, one tenant's only when asked", async () => {
    const one = captureIo();
    expect(await runAdmin(['feedback', '--tenant', `${A.platform}:${A.externalId}`], { env: {}, io: one, deps })).toBe(0);
    const text = one.stdout.join('\n');
    expect(text).toContain(`${A.platform}:${A.externalId} (Alpha): today 0 helpful / 1 not helpful; this month 0 / 1`);
    expect(text).toContain('Q: question of Alpha');
    expect(text).not.toContain('Beta');
    const all = captureIo();
    expect(await runAdmin(['feedback', '--json'], { env: {}, io: all, deps })).toBe(0);
    const rows = JSON.parse(all.stdout.join('\n')) as { tenant: string; month: { negative: number }; latestNegative: { question: string }[] }[];
    expect(rows.map((r) => r.tenant).sort()).toEqual([`${A.platform}:${A.externalId}`, `${B.platform}:${B.externalId}`].sort());
    expect(rows.find((r) => r.tenant === `${B.platform}:${B.externalId}`)!.latestNegative.map((n) => n.question)).toEqual(['question of Beta']);
  });

  it('purges one tenant: every row and vector goes, the other tenant keeps all of its own', async () => {
    await expect(purgeTenant(deps, A, { yes: false })).rejects.toThrow(/add --yes to confirm/);
    const beforeA = await countTenantRows(t.database.db, tenantA.tenantId);
    const beforeB = await countTenantRows(t.database.db, tenantB.tenantId);
    for (const n of Object.values(beforeA)) expect(n).toBeGreaterThan(0);
    for (const n of Object.values(beforeB)) expect(n).toBeGreaterThan(0);
    const vectorsB = vectorsOf(qdrant, tenantB.tenantId);
    expect(vectorsOf(qdrant, tenantA.tenantId)).toBeGreaterThan(0);
    expect(vectorsB).toBeGreaterThan(0);

    const io = captureIo();
    expect(await runAdmin(['tenants', 'purge', 'slack', A.externalId], { env: {}, io, deps })).toBe(2);
    expect(await countTenantRows(t.database.db, tenantA.tenantId)).toEqual(beforeA);

    const result = await purgeTenant(deps, A, { yes: true });
    expect(result.deleted).toEqual({ ...beforeA, tenants: 1 });
    expect(result.vectors).toBe('deleted');
    const afterA = await countTenantRows(t.database.db, tenantA.tenantId);
    for (const n of Object.values(afterA)) expect(n).toBe(0);
    expect(await new TenantRegistry(t.database.db).resolve(A.platform, A.externalId)).toBeNull();
    expect(vectorsOf(qdrant, tenantA.tenantId)).toBe(0);

    expect(await countTenantRows(t.database.db, tenantB.tenantId)).toEqual(beforeB);
    expect(vectorsOf(qdrant, tenantB.tenantId)).toBe(vectorsB);
    expect((await knowledge.retrieve(tenantB, 'holidays expenses handbook', inGeneral)).length).toBeGreaterThan(0);
  });

  it('keeps the tenant when its vectors cannot be deleted, and says so', async () => {
    const config = loadConfig({ QDRANT_URL: 'http://127.0.0.1:9', OLLAMA_HOST: ollama.url, LOG_LEVEL: 'silent' });
    const { deps: unreachable } = await openAdminContext(config, { logger: createLogger('silent'), database: t.database });
    const before = await countTenantRows(t.database.db, tenantB.tenantId);
    await expect(purgeTenant(unreachable, B, { yes: true })).rejects.toThrow(
      /^could not delete the vectors of discord:9000000001 \(.+\); the tenant was kept/,
    );
    const after = await countTenantRows(t.database.db, tenantB.tenantId);
    expect({ ...after, documents: 0 }).toEqual({ ...before, documents: 0 });
    expect(await new TenantRegistry(t.database.db).resolve(B.platform, B.externalId)).not.toBeNull();
  });
});
