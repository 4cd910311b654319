/**
 * Bolt's InstallationStore on Postgres (the `installations` table). The whole installation
 * object (tokens, refresh tokens, scopes) is sealed with AES-256-GCM; only the ids needed to find
 * a row and the bot token's expiry stay in clear. One row per installation key: the enterprise
 * id for org-wide installs, else the team id — the same string is the tenant's external id.
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import { eq } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { installations } from '../../src/db/schema.js';
import type { TokenSealer } from '../../src/security/sealing.js';
import type { TenantScope } from '../../src/ports/tenancy.js';

export interface SlackTenantLookup {
  resolve(platform: 'slack', externalId: string): Promise<TenantScope | null>;
}

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

/** The AES-GCM associated data: a sealed row only opens under its own key. */
const aad = (installationKey: string) => `slack-installation:${installationKey}`;

export class PostgresInstallationStore implements InstallationStore {
  constructor(
    private readonly db: Db,
    private readonly sealer: TokenSealer,
    private readonly tenants: SlackTenantLookup,
  ) {}

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
    await this.db
      .insert(installations)
      .values(values)
      .onConflictDoUpdate({ target: installations.installationKey, set: { ...values, updatedAt: new Date() } });
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<Installation<'v1' | 'v2', boolean>> {
    const found = await this.find(queryKeyOf(query));
    // Bolt turns this into an AuthorizationError and drops the event (no listener runs).
    if (!found) throw new Error(`no Slack installation for ${queryKeyOf(query)}`);
    return found;
  }

  /** The installation for a key, or null; re-seals rows sealed with an older key. */
  async find(key: string): Promise<Installation<'v1' | 'v2', boolean> | null> {
    const [row] = await this.db.select().from(installations).where(eq(installations.installationKey, key)).limit(1);
    if (!row) return null;
    const plaintext = this.sealer.open({ keyId: row.keyId, ciphertext: row.ciphertext }, aad(key));
    if (this.sealer.isStale(row.keyId)) {
      const sealed = this.sealer.seal(plaintext, aad(key));
      await this.db
        .update(installations)
        .set({ keyId: sealed.keyId, ciphertext: sealed.ciphertext, updatedAt: new Date() })
        .where(eq(installations.id, row.id));
    }
    return JSON.parse(plaintext) as Installation<'v1' | 'v2', boolean>;
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    await this.deleteByKey(queryKeyOf(query));
  }

  async deleteByKey(key: string): Promise<boolean> {
    const rows = await this.db.delete(installations).where(eq(installations.installationKey, key)).returning({ id: installations.id });
    return rows.length > 0;
  }

  /** Re-seals every row still sealed with an older key (after a key rotation); returns the count. */
  async resealAll(): Promise<number> {
    const rows = await this.db.select({ key: installations.installationKey, keyId: installations.keyId }).from(installations);
    let n = 0;
    for (const r of rows) {
      if (!this.sealer.isStale(r.keyId)) continue;
      await this.find(r.key);
      n += 1;
    }
    return n;
  }
}
