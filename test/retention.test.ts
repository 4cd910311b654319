/**
 * Retention: the plan's longest (operator-set, per tenant too), an admin's shorter choice
 * (`retention <days>`, never longer than the plan), and the background sweep that deletes
 * exactly what is older than each tenant's own retention and its deployment-wide rules (usage,
 * audit, finished answer jobs), nothing of another tenant, in batches several instances can
 * run at once.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerJobs, auditLog, messages, usage } from '../src/db/schema.js';
import type { Db } from '../src/db/client.js';
import { RetentionSweep } from '../src/governance/retention-sweep.js';
import { createLogger } from '../src/logger.js';
import { noMetrics } from '../src/metrics.js';
import { plans } from '../src/limits/plans.js';
import { keptFor } from '../src/ports/retention.js';
import type { Tenant } from '../src/ports/tenancy.js';
import { TenantRegistry } from '../src/tenancy/registry.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { startTestCore, type TestCore } from './helpers/core.js';

const DAY = 86_400_000;
const now = new Date('2026-12-10T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * DAY);
const dayString = (d: number) => daysAgo(d).toISOString().slice(0, 10);

async function message(db: Db, tenant: Tenant, ageDays: number, channelId = 'C1', from = now): Promise<number> {
  const createdAt = new Date(from.getTime() - ageDays * DAY);
  const [row] = await db
    .insert(messages)
    .values({ tenantId: tenant.tenantId, channelId, role: 'user', userId: 'U1', content: `${ageDays} days old`, createdAt })
    .returning({ id: messages.id });
  return row!.id;
}

async function job(db: Db, tenant: Tenant, ageDays: number, state: string): Promise<string> {
  const [row] = await db
    .insert(answerJobs)
    .values({
      tenantId: tenant.tenantId,
      platform: tenant.platform,
      tenantExternalId: tenant.externalId,
      eventId: randomUUID(),
      channelId: 'C1',
      userId: 'U1',
      state,
      text: 'a question',
      delivery: {},
      createdAt: daysAgo(ageDays),
      ...(state === 'answered' ? { finishedAt: daysAgo(ageDays) } : {}),
    })
    .returning({ id: answerJobs.id });
  return row!.id;
}

const idsOf = async (db: Db, tenant: Tenant) =>
  (await db.select({ id: messages.id }).from(messages).where(eq(messages.tenantId, tenant.tenantId))).map((r) => r.id).sort((a, b) => a - b);

describe('the retention sweep', () => {
  let t: TestDatabase;
  let db: Db;
  let registry: TenantRegistry;
  const sweep = (opts: { batchRows?: number } = {}) =>
    new RetentionSweep({ db, tenants: registry, logger: createLogger('silent'), metrics: noMetrics, options: { now: () => now, ...opts } });

  beforeAll(async () => {
    t = await createTestDatabase({ maxConnections: 8 });
    db = t.database.db;
    registry = new TenantRegistry(db, { defaultPlan: 'team', cacheTtlMs: 0 });
  });
  afterAll(async () => {
    await t?.drop();
  });

  it("deletes exactly the messages older than each tenant's retention: the plan's, an override, an admin's choice", async () => {
    const team = await registry.install('console', 'team-co'); // team plan: 90 days
    const big = await registry.install('console', 'big-co');
    await registry.setPlan('console', 'big-co', 'enterprise'); // 365 days
    const brief = await registry.install('console', 'brief-co');
    await registry.setRetention(brief, 7); // an admin chose a week
    const capped = await registry.install('console', 'capped-co');
    await registry.setPlan('console', 'capped-co', 'team', { retentionDays: 3 }); // the operator's override
    await registry.setRetention(capped, 30); // longer than the override: the override wins
    expect(plans.team!.retentionDays).toBe(90);

    const keep: Record<string, number[]> = {};
    const gone: Record<string, number[]> = {};
    const ages: [Tenant, number[], number[]][] = [
      [team, [0, 10, 89.9], [90.1, 200, 400]],
      [big, [0, 89.9, 200, 364], [366, 1000]],
      [brief, [1, 6.9], [7.1, 10, 89]],
      [capped, [1, 2.9], [3.1, 29]],
    ];
    for (const [tenant, young, old] of ages) {
      keep[tenant.externalId] = [];
      gone[tenant.externalId] = [];
      // Spread over channels, interleaved, so batches cut across conversations.
      for (const [i, age] of [...young, ...old].entries()) {
        const id = await message(db, tenant, age, `C${i % 3}`);
        (young.includes(age) ? keep : gone)[tenant.externalId]!.push(id);
      }
    }
    const result = await sweep({ batchRows: 2 }).runOnce();
    expect(result.messages).toBe(Object.values(gone).flat().length);
    for (const [tenant] of ages) {
      expect(await idsOf(db, (await registry.resolve('console', tenant.externalId))!)).toEqual(keep[tenant.externalId]!.sort((a, b) => a - b));
    }
    // A second sweep finds nothing more.
    expect((await sweep().runOnce()).messages).toBe(0);
  });

  it('deletes finished answer jobs past the retention, never a question still being answered', async () => {
    const tenant = await registry.install('console', 'jobs-co');
    await registry.setRetention(tenant, 2);
    const oldFinished = await job(db, tenant, 3, 'answered');
    const oldActive = await job(db, tenant, 3, 'answering');
    const young = await job(db, tenant, 1, 'answered');
    await sweep().runOnce();
    const left = (await db.select({ id: answerJobs.id }).from(answerJobs).where(eq(answerJobs.tenantId, tenant.tenantId))).map((r) => r.id);
    expect(left.sort()).toEqual([oldActive, young].sort());
    expect(left).not.toContain(oldFinished);
  });

  it('keeps usage counts and audit entries for their own terms, whatever the conversation retention', async () => {
    const tenant = await registry.install('console', 'records-co');
    await registry.setRetention(tenant, 1);
    const usageDays = [keptFor.usageDays - 1, keptFor.usageDays + 1].map(dayString);
    for (const day of usageDays) await db.insert(usage).values({ tenantId: tenant.tenantId, day, requests: 1 });
    for (const age of [2, keptFor.auditDays - 1, keptFor.auditDays + 1]) {
      await db.insert(auditLog).values({ tenantId: tenant.tenantId, actor: 'U1', action: `age ${age}`, createdAt: daysAgo(age) });
    }
    await sweep().runOnce();
    const days = (await db.select({ day: usage.day }).from(usage).where(eq(usage.tenantId, tenant.tenantId))).map((r) => r.day);
    expect(days).toEqual([usageDays[0]]);
    const actions = (await db.select({ a: auditLog.action }).from(auditLog).where(eq(auditLog.tenantId, tenant.tenantId))).map((r) => r.a);
    expect(actions.sort()).toEqual([`age 2`, `age ${keptFor.auditDays - 1}`].sort());
  });

  it('several instances sweeping at once delete each expired row once, and nothing else', async () => {
    const tenants = await Promise.all(['para-a', 'para-b', 'para-c'].map((n) => registry.install('console', n)));
    for (const tenant of tenants) await registry.setRetention(tenant, 5);
    const old: number[] = [];
    const young: number[] = [];
    for (const tenant of tenants) {
      for (let i = 0; i < 40; i++) old.push(await message(db, tenant, 6 + i / 10, `C${i % 4}`));
      for (let i = 0; i < 10; i++) young.push(await message(db, tenant, 4, `C${i % 4}`));
    }
    const results = await Promise.all([sweep({ batchRows: 7 }).runOnce(), sweep({ batchRows: 7 }).runOnce(), sweep({ batchRows: 7 }).runOnce()]);
    expect(results.reduce((n, r) => n + r.messages, 0)).toBe(old.length);
    const ids = tenants.map((x) => x.tenantId);
    const left = (await db.select({ id: messages.id }).from(messages).where(inArray(messages.tenantId, ids))).map((r) => r.id);
    expect(left.sort((a, b) => a - b)).toEqual(young.sort((a, b) => a - b));
  });

  it('a sweep already running is joined, not started twice, and stop() ends it after its batch', async () => {
    const s = sweep({ batchRows: 1 });
    const tenant = await registry.install('console', 'stop-co');
    await registry.setRetention(tenant, 1);
    for (let i = 0; i < 30; i++) await message(db, tenant, 2);
    const first = s.runOnce();
    expect(s.runOnce()).toBe(first);
    await s.stop();
    const done = await first;
    const left = await db.select({ id: messages.id }).from(messages).where(and(eq(messages.tenantId, tenant.tenantId)));
    expect(left.length).toBeGreaterThan(0);
    expect(done.messages + left.length).toBe(30);
    // A later sweep finishes the job.
    expect((await sweep().runOnce()).messages).toBe(left.length);
  });
});

describe('retention <days> and retention show', () => {
  let t: TestDatabase;
  let fake: FakeOllama;
  let core: TestCore;
  const say = (text: string, o: { admin?: boolean; workspace?: string } = {}) => core.send(`/llm ${text}`, { admin: true, ...o });

  beforeAll(async () => {
    t = await createTestDatabase();
    fake = await startFakeOllama();
    core = await startTestCore(t.database, fake.url, { DEFAULT_PLAN: 'team' });
  });
  afterAll(async () => {
    await core?.core.close();
    await fake?.close();
    await t?.drop();
  });

  it('shows the retention, where it comes from, and what else is kept for how long', async () => {
    const r = await say('retention show');
    expect(r.sink.final).toContain('Conversations in this workspace are kept for **90 days** (the plan\'s longest');
    expect(r.sink.final).toContain(`Usage counts (numbers only) are kept ${keptFor.usageDays} days`);
    expect(r.sink.final).toContain(`audit log of admin changes ${keptFor.auditDays} days`);
    expect((await say('retention')).sink.final).toBe(r.sink.final);
  });

  it('lets an admin shorten it, audited, and never lengthen it past the plan', async () => {
    const set = await say('retention 30', { workspace: 'shorter' });
    expect(set.sink.final).toBe('Conversations are now kept for 30 days. Older messages will be deleted within the hour.');
    const tenant = (await core.core.tenants.resolve('console', 'shorter'))!;
    expect(tenant).toMatchObject({ retentionDays: 30, chosenRetentionDays: 30 });
    expect((await core.core.audit.recent(tenant, 1))[0]).toMatchObject({ action: 'retention.set', detail: { days: 30, before: 90 } });

    const over = await say('retention 91', { workspace: 'shorter' });
    expect(over.result).toMatchObject({ status: 'refused', code: 'limit_reached' });
    expect(over.sink.final).toBe("This workspace's plan keeps conversations at most 90 days; choose 90 or fewer. The operator of this deployment sets the plan.");
    expect((await core.core.tenants.resolve('console', 'shorter'))!.retentionDays).toBe(30);
    expect((await say('retention show', { workspace: 'shorter' })).sink.final).toContain('**30 days** (chosen by an admin; the plan allows up to 90 days)');
  });

  it('refuses members, zero and words, changing nothing', async () => {
    expect((await say('retention 5', { admin: false, workspace: 'members' })).result.code).toBe('admin_only');
    expect((await say('retention 0', { workspace: 'members' })).sink.final).toMatch(/The number of days must be a whole number 1 or more/);
    expect((await say('retention forever', { workspace: 'members' })).result.code).toBe('command_usage');
    expect((await core.core.tenants.resolve('console', 'members'))!.chosenRetentionDays).toBeNull();
  });

  it("an operator's lower plan limit caps an admin's earlier choice", async () => {
    await say('retention 60', { workspace: 'capped' });
    const registry = new TenantRegistry(t.database.db);
    await registry.setPlan('console', 'capped', 'team', { retentionDays: 10 });
    core.core.tenants.invalidate('console', 'capped');
    const tenant = (await core.core.tenants.resolve('console', 'capped'))!;
    expect(tenant).toMatchObject({ retentionDays: 10, chosenRetentionDays: 60 });
  });

  it("the service's sweep deletes a workspace's old messages once an admin shortens its retention", async () => {
    await core.send('hello there', { workspace: 'sweep-co' });
    const tenant = (await core.core.tenants.resolve('console', 'sweep-co'))!;
    // The service's sweep runs on the real clock.
    await message(t.database.db, tenant, 3, 'C1', new Date());
    await say('retention 2', { workspace: 'sweep-co' });
    const before = await idsOf(t.database.db, tenant);
    await core.core.retention.runOnce();
    const after = await idsOf(t.database.db, tenant);
    expect(after).toHaveLength(before.length - 1);
  });
});
