/**
 * The Postgres InstallationStore: team and enterprise installs, token rotation fields, sealing
 * at rest and key rotation, on the real database.
 */
import { randomBytes } from 'node:crypto';
import type { Installation } from '@slack/oauth';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installations, installationUsers } from '../src/db/schema.js';
import { TokenSealer } from '../src/security/sealing.js';
import { TenantRegistry } from '../src/tenancy/registry.js';
import { InstallationStoreUnavailable, PostgresInstallationStore } from '../adapters/slack/installation-store.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

let tdb: TestDatabase;
let tenants: TenantRegistry;
const k1 = randomBytes(32);
const k2 = randomBytes(32);

const teamInstall = (teamId: string, token: string, extra: Partial<NonNullable<Installation['bot']>> = {}): Installation<'v2', false> => ({
  team: { id: teamId, name: `Team ${teamId}` },
  enterprise: undefined,
  user: { id: `UINST_${teamId}`, token: undefined, scopes: undefined },
  bot: { token, scopes: ['chat:write'], id: `B_${teamId}`, userId: `UBOT_${teamId}`, ...extra },
  tokenType: 'bot',
  isEnterpriseInstall: false,
  appId: 'A1',
  authVersion: 'v2',
});

beforeAll(async () => {
  tdb = await createTestDatabase();
  tenants = new TenantRegistry(tdb.database.db);
});

afterAll(async () => {
  await tdb?.drop();
});

describe('PostgresInstallationStore', () => {
  it('stores a team install sealed and fetches it back, with rotation fields', async () => {
    const store = new PostgresInstallationStore(tdb.database.db, new TokenSealer(k1), tenants);
    await tenants.install('slack', 'T1', { name: 'One' });
    const expiresAt = Math.floor(Date.now() / 1000) + 43_200;
    await store.storeInstallation(teamInstall('T1', 'xoxe.xoxb-t1', { refreshToken: 'xoxe-1-refresh', expiresAt }));
    const [row] = await tdb.database.db.select().from(installations).where(eq(installations.installationKey, 'T1'));
    expect(row).toMatchObject({ teamId: 'T1', enterpriseId: null, isEnterpriseInstall: false, botUserId: 'UBOT_T1', installerUserId: 'UINST_T1' });
    expect(row!.botTokenExpiresAt?.getTime()).toBe(expiresAt * 1000);
    expect(row!.ciphertext).not.toMatch(/xox/);
    const back = await store.fetchInstallation({ teamId: 'T1', isEnterpriseInstall: false, enterpriseId: undefined });
    expect(back.bot).toMatchObject({ token: 'xoxe.xoxb-t1', refreshToken: 'xoxe-1-refresh', expiresAt });
    // Storing again (a refreshed token, a re-install) replaces the row.
    await store.storeInstallation(teamInstall('T1', 'xoxe.xoxb-t1-new'));
    expect((await store.find('T1'))?.bot?.token).toBe('xoxe.xoxb-t1-new');
    expect(await tdb.database.db.select().from(installations).where(eq(installations.installationKey, 'T1'))).toHaveLength(1);
  });

  it('keys org-wide installs by enterprise id, and workspace installs in a grid by team id', async () => {
    const store = new PostgresInstallationStore(tdb.database.db, new TokenSealer(k1), tenants);
    await tenants.install('slack', 'E1', { name: 'Org' });
    await store.storeInstallation({
      team: undefined,
      enterprise: { id: 'E1', name: 'Org' },
      user: { id: 'UORG', token: undefined, scopes: undefined },
      bot: { token: 'xoxb-org', scopes: ['chat:write'], id: 'BORG', userId: 'UBORG' },
      isEnterpriseInstall: true,
      authVersion: 'v2',
    });
    await tenants.install('slack', 'T9', { name: 'Grid workspace' });
    await store.storeInstallation({ ...teamInstall('T9', 'xoxb-t9'), enterprise: { id: 'E2' } });
    // An event from any workspace of the org resolves to the org install.
    expect((await store.fetchInstallation({ teamId: 'TANY', enterpriseId: 'E1', isEnterpriseInstall: true })).bot?.token).toBe('xoxb-org');
    expect((await store.fetchInstallation({ teamId: 'T9', enterpriseId: 'E2', isEnterpriseInstall: false })).bot?.token).toBe('xoxb-t9');
    await expect(store.fetchInstallation({ teamId: 'TNONE', enterpriseId: undefined, isEnterpriseInstall: false })).rejects.toThrow(/no Slack installation/);
  });

  it('will not store an installation whose tenant does not exist', async () => {
    const store = new PostgresInstallationStore(tdb.database.db, new TokenSealer(k1), tenants);
    await expect(store.storeInstallation(teamInstall('TGHOST', 'xoxb-ghost'))).rejects.toThrow(/no tenant/);
  });

  it('a sealed row pasted under another workspace does not open', async () => {
    const store = new PostgresInstallationStore(tdb.database.db, new TokenSealer(k1), tenants);
    await tenants.install('slack', 'T2', { name: 'Two' });
    await store.storeInstallation(teamInstall('T2', 'xoxb-t2'));
    const [t1] = await tdb.database.db.select().from(installations).where(eq(installations.installationKey, 'T1'));
    await tdb.database.db.update(installations).set({ ciphertext: t1!.ciphertext }).where(eq(installations.installationKey, 'T2'));
    await expect(store.find('T2')).rejects.toThrow(/failed authentication/);
    await store.storeInstallation(teamInstall('T2', 'xoxb-t2'));
  });

  it('rotates keys: old rows open with the old key and are re-sealed with the new one', async () => {
    const rotated = new PostgresInstallationStore(
      tdb.database.db,
      TokenSealer.fromConfig(k2.toString('base64'), `previous:${k1.toString('base64')}`),
      tenants,
    );
    const sealer2 = new TokenSealer(k2);
    expect((await rotated.find('T2'))?.bot?.token).toBe('xoxb-t2');
    const [t2] = await tdb.database.db.select().from(installations).where(eq(installations.installationKey, 'T2'));
    expect(t2!.keyId).toBe(sealer2.currentKeyId);
    // The rest (T1, E1, T9) in one pass; a second pass has nothing left.
    expect(await rotated.resealAll()).toBe(3);
    expect(await rotated.resealAll()).toBe(0);
    // Now the old key can be dropped.
    const newOnly = new PostgresInstallationStore(tdb.database.db, sealer2, tenants);
    expect((await newOnly.find('E1'))?.bot?.token).toBe('xoxb-org');
  });

  it('deletes an installation', async () => {
    const store = new PostgresInstallationStore(tdb.database.db, new TokenSealer(k2), tenants);
    await store.deleteInstallation({ teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false });
    expect(await store.find('T1')).toBeNull();
    expect(await store.deleteByKey('T1')).toBe(false);
  });

  it('keeps one member\'s user token from answering for another (fetch and delete by user)', async () => {
    const store = new PostgresInstallationStore(tdb.database.db, new TokenSealer(k2), tenants);
    await tenants.install('slack', 'T5', { name: 'Five' });
    const withUser = (userId: string, token: string): Installation<'v2', false> => ({
      ...teamInstall('T5', 'xoxb-t5'),
      user: { id: userId, token, scopes: ['search:read'] },
    });
    await store.storeInstallation(withUser('UALICE', 'xoxp-alice'));
    await store.storeInstallation(withUser('UBOB', 'xoxp-bob'));
    const q = { teamId: 'T5', enterpriseId: undefined, isEnterpriseInstall: false as const };
    expect((await store.fetchInstallation({ ...q, userId: 'UBOB' })).user.token).toBe('xoxp-bob');
    expect((await store.fetchInstallation({ ...q, userId: 'UALICE' })).user.token).toBe('xoxp-alice');
    const stranger = await store.fetchInstallation({ ...q, userId: 'UCAROL' });
    expect(stranger.user.token).toBeUndefined();
    expect(stranger.bot?.token).toBe('xoxb-t5');
    // Deleting one user's data leaves the bot and the other user alone.
    await store.deleteInstallation({ ...q, userId: 'UBOB' });
    expect((await store.fetchInstallation({ ...q, userId: 'UBOB' })).user.token).toBeUndefined();
    expect((await store.fetchInstallation({ ...q, userId: 'UBOB' })).bot?.token).toBe('xoxb-t5');
    expect((await store.fetchInstallation({ ...q, userId: 'UALICE' })).user.token).toBe('xoxp-alice');
    // Without a user, everything goes.
    await store.deleteInstallation(q);
    await expect(store.fetchInstallation({ ...q, userId: 'UALICE' })).rejects.toThrow(/no Slack installation/);
    expect(await tdb.database.db.select().from(installationUsers).where(eq(installationUsers.installationKey, 'T5'))).toHaveLength(0);
  });

  it('serves repeated lookups from its cache, and drops an entry the moment it stores or deletes it', async () => {
    const store = new PostgresInstallationStore(tdb.database.db, new TokenSealer(k2), tenants, { cacheTtlMs: 60_000 });
    await tenants.install('slack', 'T6', { name: 'Six' });
    await store.storeInstallation(teamInstall('T6', 'xoxb-t6-a'));
    expect((await store.find('T6'))?.bot?.token).toBe('xoxb-t6-a');
    // Another instance rotates the row: this one keeps serving its decrypted copy until the TTL...
    const other = new PostgresInstallationStore(tdb.database.db, new TokenSealer(k2), tenants);
    await other.storeInstallation(teamInstall('T6', 'xoxb-t6-b'));
    expect((await store.find('T6'))?.bot?.token).toBe('xoxb-t6-a');
    // ...while its own writes take effect at once.
    await store.storeInstallation(teamInstall('T6', 'xoxb-t6-c'));
    expect((await store.find('T6'))?.bot?.token).toBe('xoxb-t6-c');
    await store.deleteByKey('T6');
    expect(await store.find('T6')).toBeNull();
    const short = new PostgresInstallationStore(tdb.database.db, new TokenSealer(k2), tenants, { cacheTtlMs: 1 });
    await short.find('T6');
    await other.storeInstallation(teamInstall('T6', 'xoxb-t6-d'));
    await new Promise((r) => setTimeout(r, 5));
    expect((await short.find('T6'))?.bot?.token).toBe('xoxb-t6-d');
  });

  it('says the store is unavailable (not "no installation") when the database cannot be read', async () => {
    const broken = await createTestDatabase();
    const store = new PostgresInstallationStore(broken.database.db, new TokenSealer(k2), new TenantRegistry(broken.database.db));
    await broken.drop();
    await expect(store.fetchInstallation({ teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false })).rejects.toBeInstanceOf(
      InstallationStoreUnavailable,
    );
  });
});
