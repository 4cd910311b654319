/**
 * Erasure of one user (`npm run admin -- users forget`): afterwards no row of the tenant names
 * them (read through the tenant's full export, so no table can be overlooked); the bot's answers
 * go where only they asked and stay, with the reason, where others asked too; a question still
 * being answered is kept and the command says to run again; the same user id in another tenant
 * is untouched; the audit row records counts, not the user.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminDeps } from '../src/admin/commands.js';
import { runAdmin } from '../src/admin/run.js';
import { answerFeedback, answerJobs, answers, documents, installations, installationUsers, messages, personas } from '../src/db/schema.js';
import { exportTenant } from '../src/governance/export.js';
import { FORGOTTEN_USER } from '../src/governance/forget-count.js';
import type { Tenant } from '../src/ports/tenancy.js';
import type { TestDatabase } from './helpers/db.js';
import { captureIo, openAdminWorld, type AdminWorld } from './helpers/admin-world.js';

const ALICE = 'U0ALICE77';
const BOB = 'U0BOB88';

async function exportText(deps: AdminDeps, tenant: Tenant): Promise<string> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) });
  await exportTenant({ db: deps.db }, tenant, out);
  return Buffer.concat(chunks).toString('utf8');
}

describe('users forget', () => {
  let world: AdminWorld;
  let t: TestDatabase;
  let deps: AdminDeps;
  let a: Tenant;
  let b: Tenant;

  const say = (tenant: Tenant, channelId: string, threadId: string, userId: string | null, content: string) =>
    t.database.db.insert(messages).values({ tenantId: tenant.tenantId, channelId, threadId, role: userId ? 'user' : 'assistant', userId, content });
  const job = (tenant: Tenant, userId: string, state: string, eventId: string) =>
    t.database.db.insert(answerJobs).values({
      tenantId: tenant.tenantId,
      platform: tenant.platform,
      tenantExternalId: tenant.externalId,
      eventId,
      channelId: 'C1',
      userId,
      state,
      text: `question of ${userId}`,
      delivery: {},
    });

  async function fill(tenant: Tenant) {
    const db = t.database.db;
    // The channel timeline: both asked, the answers answer both.
    await say(tenant, 'C1', '', ALICE, 'alice asks in the channel');
    await say(tenant, 'C1', '', null, 'answer to alice in the channel');
    await say(tenant, 'C1', '', BOB, 'bob asks in the channel');
    await say(tenant, 'C1', '', null, 'answer to bob in the channel');
    // A thread only alice asked in, and her DM: the answers were for her alone.
    await say(tenant, 'C1', 't-alice', ALICE, 'alice asks in her thread');
    await say(tenant, 'C1', 't-alice', null, 'answer in the thread of alice');
    await say(tenant, 'D-alice', '', ALICE, 'alice in a DM');
    await say(tenant, 'D-alice', '', null, 'answer in the DM of alice');
    // A thread only bob asked in.
    await say(tenant, 'C1', 't-bob', BOB, 'bob asks in his thread');
    await say(tenant, 'C1', 't-bob', null, 'answer in the thread of bob');
    await job(tenant, ALICE, 'answered', `done-${tenant.externalId}`);
    await job(tenant, BOB, 'answered', `bob-${tenant.externalId}`);
    await db.insert(installations).values({ tenantId: tenant.tenantId, installationKey: `K-${tenant.externalId}`, installerUserId: ALICE, keyId: 'k', ciphertext: 'sealed' });
    await db.insert(installationUsers).values([
      { tenantId: tenant.tenantId, installationKey: `K-${tenant.externalId}`, userId: ALICE, keyId: 'k', ciphertext: 'sealed' },
      { tenantId: tenant.tenantId, installationKey: `K-${tenant.externalId}`, userId: BOB, keyId: 'k', ciphertext: 'sealed' },
    ]);
    await db.insert(personas).values({ tenantId: tenant.tenantId, name: 'pirate', systemPrompt: 'Arr.', createdBy: ALICE });
    await deps.audit.record(tenant, ALICE, 'channel.mode', { channel: 'C1', mode: 'all' });
    // Named in another's entry, inside text, and beside a different user whose id starts like hers.
    await deps.audit.record(tenant, BOB, 'persona.create', { name: 'bard', by: ALICE, note: `asked by <@${ALICE}>`, other: `${ALICE}0` });
    await deps.knowledge!.knowledge!.add(tenant, { title: 'Handbook', text: 'The handbook.', addedBy: ALICE }, tenant.limits);
    // An answer she asked for, and her vote on an answer bob asked for (bob voted too).
    const answer = (askerId: string, threadId: string) => ({ id: randomUUID(), channelId: 'C1', threadId, askerId, questionMessageId: null, answerMessageId: null, persona: 'assistant', sources: [], stopped: false });
    const hers = answer(ALICE, 't-alice');
    const his = answer(BOB, 't-bob');
    await deps.answers.record(tenant, hers);
    await deps.answers.record(tenant, his);
    await deps.answers.vote(tenant, hers.id, ALICE, 'positive');
    await deps.answers.vote(tenant, his.id, ALICE, 'negative');
    await deps.answers.vote(tenant, his.id, BOB, 'positive');
  }

  beforeAll(async () => {
    world = await openAdminWorld();
    ({ t, deps } = world);
    a = await deps.tenants.install('slack', 'T0FORGETA', { installedBy: ALICE });
    b = await deps.tenants.install('slack', 'T0FORGETB', { installedBy: ALICE });
    await fill(a);
    await fill(b);
    await job(a, ALICE, 'answering', 'still-running');
  });
  afterAll(async () => {
    await world?.close();
  });

  it('refuses without --yes and changes nothing', async () => {
    const io = captureIo();
    expect(await runAdmin(['users', 'forget', 'slack', 'T0FORGETA', ALICE], { env: {}, io, deps })).toBe(2);
    expect(io.stderr.join('')).toMatch(/add --yes to confirm/);
    expect(await exportText(deps, a)).toContain(ALICE);
  });

  it('deletes their messages and the answers only they got, keeps shared answers with why, and a running question for a rerun', async () => {
    const io = captureIo();
    // A question still being answered is kept: the command says so and fails, to be run again.
    expect(await runAdmin(['users', 'forget', 'slack', 'T0FORGETA', ALICE, '--yes'], { env: {}, io, deps })).toBe(1);
    const out = io.stdout.join('\n');
    expect(out).toMatch(new RegExp(`^Forgot ${ALICE} in slack:T0FORGETA:`));
    // Her 3 messages and the 2 answers in her thread and DM; the channel's 2 answers stay (bob asked there too).
    expect(out).toMatch(/^messages\s+5\s+0\s+2$/m);
    expect(out).toContain("Kept in messages: 2 answers in 1 conversation(s) where others asked too (they answer the others as well; the user's own messages are gone).");
    expect(out).toContain('Kept in answer_jobs: 1 questions being answered right now: run users forget again once they are answered.');
    expect(out).toContain('They had installed the app');

    const left = await t.database.db
      .select({ channel: messages.channelId, thread: messages.threadId, content: messages.content })
      .from(messages)
      .where(eq(messages.tenantId, a.tenantId));
    expect(left.map((m) => m.content).sort()).toEqual(
      ['answer to alice in the channel', 'answer to bob in the channel', 'bob asks in the channel', 'bob asks in his thread', 'answer in the thread of bob'].sort(),
    );

    // The question finishes; the rerun completes the erasure.
    await t.database.db.update(answerJobs).set({ state: 'answered' }).where(and(eq(answerJobs.tenantId, a.tenantId), eq(answerJobs.eventId, 'still-running')));
    const rerun = captureIo();
    expect(await runAdmin(['users', 'forget', 'slack', 'T0FORGETA', ALICE, '--yes'], { env: {}, io: rerun, deps })).toBe(0);
  });

  it('leaves no row of the tenant that names them', async () => {
    const text = await exportText(deps, a);
    expect(text).not.toMatch(new RegExp(`${ALICE}(?!0)`));
    expect(text).toContain(FORGOTTEN_USER);
    const resolved = (await deps.tenants.resolve('slack', 'T0FORGETA'))!;
    expect(resolved.installedBy).toBeNull();
    const [doc] = await t.database.db.select().from(documents).where(eq(documents.tenantId, a.tenantId));
    expect(doc!.addedBy).toBe(FORGOTTEN_USER);
    const users = await t.database.db.select().from(installationUsers).where(eq(installationUsers.tenantId, a.tenantId));
    expect(users.map((u) => u.userId)).toEqual([BOB]);
    // Bob's rows are his as before: his answer's record and his vote stay, hers are gone.
    expect(text).toContain(BOB);
    const records = await t.database.db.select().from(answers).where(eq(answers.tenantId, a.tenantId));
    expect(records.map((r) => r.askerId)).toEqual([BOB]);
    const votes = await t.database.db.select().from(answerFeedback).where(eq(answerFeedback.tenantId, a.tenantId));
    expect(votes.map((v) => v.userId)).toEqual([BOB]);
    const audit = await deps.audit.recent(a);
    expect(audit.find((e) => e.action === 'persona.create')).toMatchObject({
      actor: BOB,
      detail: { by: FORGOTTEN_USER, note: `asked by <@${FORGOTTEN_USER}>`, other: `${ALICE}0` },
    });
  });

  it('writes an audit row with the counts, which does not name them', async () => {
    const entries = (await deps.audit.recent(a)).filter((e) => e.action === 'user.forget');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ actor: 'operator', detail: { installer: false, tables: { messages: { deleted: 0 } } } });
    expect(entries[1]).toMatchObject({ detail: { installer: true, tables: { messages: { deleted: 5, kept: 2 }, answer_jobs: { deleted: 1, kept: 1 } } } });
    expect(JSON.stringify(entries)).not.toContain(ALICE);
  });

  it('leaves the same user id in another tenant untouched', async () => {
    const text = await exportText(deps, b);
    expect(text.split(ALICE).length - 1).toBeGreaterThanOrEqual(10);
    const n = await t.database.db.select({ n: sql<number>`count(*)::int` }).from(messages).where(eq(messages.tenantId, b.tenantId));
    expect(n[0]!.n).toBe(10);
    expect((await deps.tenants.resolve('slack', 'T0FORGETB'))!.installedBy).toBe(ALICE);
  });
});
