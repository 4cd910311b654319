/**
 * Bolt's InstallationStore on Postgres (@slack/oauth's contract: store, fetch, delete). The whole
 * installation object (tokens, refresh tokens, scopes) is sealed with AES-256-GCM; only the ids
 * needed to find a row and the bot token's expiry stay in clear. One row per installation key
 * (the enterprise id for org-wide installs, else the team id — the tenant's external id), plus a
 * row per other user who installed user scopes.
 *
 * Every event is authorized through fetchInstallation before Slack's 3-second ack, so decrypted
 * installations are cached (LRU + TTL). This instance drops an entry the moment it stores or
 * deletes one (an install, an uninstall, a revoke, a token refresh); other instances see the
 * change when their entry expires, within `cacheTtlMs`.
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import { and, eq } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../src/db/client.js';
import { installations, installationUsers } from '../../src/db/schema.js';
import type { TokenSealer } from '../../src/security/sealing.js';
import type { TenantScope } from '../../src/ports/tenancy.js';

export interface SlackTenantLookup {
  resolve(platform: 'slack', externalId: string): Promise<TenantScope | null>;
}

type AnyInstallation = Installation<'v1' | 'v2', boolean>;

/** The tenant external id (and row key) of an installation: enterprise id for org installs. */
export function installationKeyOf(inst: Pick<Installation, 'isEnterpriseInstall' | 'enterprise' | 'team'>): string {
  const key = inst.isEnterpriseInstall ? inst.enterprise?.id : inst.team?.id;
  if (!key) throw new Error('installation has neither a team id nor an enterprise id');
  return key;
}

export function queryKeyOf(q: InstallationQuery<boolean>): string {
  const key = q.isEnterpriseInstall ? q.enterpriseId : q.teamId;
  if (!key) throw new Error('installation query has neither a team id nor an enterprise id');
  return key;
}

/** The AES-GCM associated data: a sealed row only opens under its own key (and user). */
const aad = (installationKey: string) => `slack-installation:${installationKey}`;
const userAad = (installationKey: string, userId: string) => `slack-installation:${installationKey}:user:${userId}`;

/** The installation store could not be read (database down): the delivery must be retried, not dropped. */
export class InstallationStoreUnavailable extends Error {
  constructor(cause: unknown) {
    super('the installation store cannot be reached', { cause });
    this.name = 'InstallationStoreUnavailable';
  }
}

export interface InstallationStoreOptions {
  /** How long another instance's change can stay unseen (default 5 s). */
  cacheTtlMs?: number;
  cacheSize?: number;
}

type UserPart = AnyInstallation['user'] | null;

export class PostgresInstallationStore implements InstallationStore {
  private readonly apps: LRUCache<string, { installation: AnyInstallation; storedAt: Date } | false>;
  private readonly users: LRUCache<string, { user: UserPart }>;

  constructor(
    private readonly db: Db,
    private readonly sealer: TokenSealer,
    private readonly tenants: SlackTenantLookup,
    opts: InstallationStoreOptions = {},
  ) {
    const ttl = opts.cacheTtlMs ?? 5_000;
    this.apps = new LRUCache({ max: opts.cacheSize ?? 10_000, ttl });
    this.users = new LRUCache({ max: (opts.cacheSize ?? 10_000) * 4, ttl });
  }

  async storeInstallation<AuthVersion extends 'v1' | 'v2'>(installation: Installation<AuthVersion, boolean>): Promise<void> {
    const key = installationKeyOf(installation);
    const tenant = await this.tenants.resolve('slack', key);
    // The adapter creates the tenant before the exchange is stored (afterInstallation).
    if (!tenant) throw new Error(`no tenant for Slack installation ${key}`);
    const sealed = this.sealer.seal(JSON.stringify(installation), aad(key));
    const values = {
      tenantId: tenant.tenantId,
      installationKey: key,
      enterpriseId: installation.enterprise?.id ?? null,
      teamId: installation.team?.id ?? null,
      isEnterpriseInstall: installation.isEnterpriseInstall === true,
      installerUserId: installation.user?.id ?? null,
      botUserId: installation.bot?.userId ?? null,
      keyId: sealed.keyId,
      ciphertext: sealed.ciphertext,
      botTokenExpiresAt: installation.bot?.expiresAt ? new Date(installation.bot.expiresAt * 1000) : null,
    };
    this.forget(key);
    await this.db
      .insert(installations)
      .values(values)
      .onConflictDoUpdate({ target: installations.installationKey, set: { ...values, updatedAt: new Date() } });
    // The installing user's own part, so a later install by someone else does not take it away.
    const user = installation.user;
    if (user?.id && (user.token || user.refreshToken)) {
      const sealedUser = this.sealer.seal(JSON.stringify(user), userAad(key, user.id));
      const row = { tenantId: tenant.tenantId, installationKey: key, userId: user.id, keyId: sealedUser.keyId, ciphertext: sealedUser.ciphertext };
      await this.db
        .insert(installationUsers)
        .values(row)
        .onConflictDoUpdate({ target: [installationUsers.installationKey, installationUsers.userId], set: { ...row, updatedAt: new Date() } });
    }
    this.forget(key);
  }

  /**
   * The installation for an event. With a `userId`, its `user` part is that user's own (token
   * included) or carries no token at all: one member's user token never answers for another's.
   */
  async fetchInstallation(query: InstallationQuery<boolean>): Promise<AnyInstallation> {
    const key = queryKeyOf(query);
    const found = await this.findWithTime(key);
    // Bolt turns this into an AuthorizationError and drops the event (no listener runs).
    if (!found) throw new Error(`no Slack installation for ${key}`);
    const installation = structuredClone(found.installation);
    const userId = query.userId;
    if (!userId || installation.user?.id === userId) return installation;
    const own = await this.userPart(key, userId);
    installation.user = own ?? { id: installation.user?.id ?? '', token: undefined, scopes: undefined };
    return installation;
  }

  /** The installation for a key, or null; re-seals rows sealed with an older key. */
  async find(key: string): Promise<AnyInstallation | null> {
    const found = await this.findWithTime(key);
    return found ? structuredClone(found.installation) : null;
  }

  /** When the current installation of `key` was stored (to ignore lifecycle events older than it). */
  async storedAt(key: string): Promise<Date | null> {
    return (await this.findWithTime(key))?.storedAt ?? null;
  }

  private async findWithTime(key: string): Promise<{ installation: AnyInstallation; storedAt: Date } | null> {
    const hit = this.apps.get(key);
    if (hit !== undefined) return hit || null;
    let row: typeof installations.$inferSelect | undefined;
    try {
      [row] = await this.db.select().from(installations).where(eq(installations.installationKey, key)).limit(1);
    } catch (err) {
      throw new InstallationStoreUnavailable(err);
    }
    if (!row) {
      this.apps.set(key, false);
      return null;
    }
    const plaintext = this.sealer.open({ keyId: row.keyId, ciphertext: row.ciphertext }, aad(key));
    if (this.sealer.isStale(row.keyId)) {
      const sealed = this.sealer.seal(plaintext, aad(key));
      await this.db
        .update(installations)
        .set({ keyId: sealed.keyId, ciphertext: sealed.ciphertext })
        .where(eq(installations.id, row.id));
    }
    const value = { installation: JSON.parse(plaintext) as AnyInstallation, storedAt: row.updatedAt };
    this.apps.set(key, value);
    return value;
  }

  private async userPart(key: string, userId: string): Promise<UserPart> {
    const k = `${key}\u0000${userId}`;
    const hit = this.users.get(k);
    if (hit) return hit.user;
    let row: typeof installationUsers.$inferSelect | undefined;
    try {
      [row] = await this.db
        .select()
        .from(installationUsers)
        .where(and(eq(installationUsers.installationKey, key), eq(installationUsers.userId, userId)))
        .limit(1);
    } catch (err) {
      throw new InstallationStoreUnavailable(err);
    }
    const user = row ? (JSON.parse(this.sealer.open({ keyId: row.keyId, ciphertext: row.ciphertext }, userAad(key, userId))) as UserPart) : null;
    this.users.set(k, { user });
    return user;
  }

  /**
   * Without a `userId`: the whole installation (bot token included) and every user's part.
   * With one: only that user's part; the bot keeps working.
   */
  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    const key = queryKeyOf(query);
    if (!query.userId) {
      await this.deleteByKey(key);
      return;
    }
    await this.deleteUser(key, query.userId);
  }

  async deleteByKey(key: string): Promise<boolean> {
    this.forget(key);
    await this.db.delete(installationUsers).where(eq(installationUsers.installationKey, key));
    const rows = await this.db.delete(installations).where(eq(installations.installationKey, key)).returning({ id: installations.id });
    this.forget(key);
    return rows.length > 0;
  }

  private async deleteUser(key: string, userId: string): Promise<void> {
    this.forget(key);
    await this.db.delete(installationUsers).where(and(eq(installationUsers.installationKey, key), eq(installationUsers.userId, userId)));
    // The installer's own token also sits in the app row: strip it there, keep the bot.
    const current = await this.find(key);
    if (current?.user?.id === userId && (current.user.token || current.user.refreshToken)) {
      current.user = { id: userId, token: undefined, scopes: undefined };
      const sealed = this.sealer.seal(JSON.stringify(current), aad(key));
      await this.db.update(installations).set({ keyId: sealed.keyId, ciphertext: sealed.ciphertext }).where(eq(installations.installationKey, key));
    }
    this.forget(key);
  }

  /** Re-seals every row still sealed with an older key (after a key rotation); returns the count. */
  async resealAll(): Promise<number> {
    const rows = await this.db.select({ key: installations.installationKey, keyId: installations.keyId }).from(installations);
    let n = 0;
    for (const r of rows) {
      if (!this.sealer.isStale(r.keyId)) continue;
      this.forget(r.key);
      await this.find(r.key);
      n += 1;
    }
    return n;
  }

  private forget(key: string): void {
    this.apps.delete(key);
    for (const k of this.users.keys()) if (k.startsWith(`${key}\u0000`)) this.users.delete(k);
  }
}
