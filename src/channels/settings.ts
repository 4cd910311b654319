/** Per-channel behaviour: answer mode, persona, memory window, retrieval on/off. */
import { and, eq } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../db/client.js';
import { channelSettings } from '../db/schema.js';
import type { TenantScope } from '../ports/tenancy.js';
import type { ChannelMode, ChannelSettings, ChannelSettingsStore } from '../ports/stores.js';

export const defaultChannelSettings: ChannelSettings = { mode: 'mention', persona: null, memoryMessages: null, retrieval: true };

/**
 * Read on every message, changed rarely: cached per (tenant, channel) and invalidated on set.
 * Another instance's change is seen within the TTL.
 */
export class CachedChannelSettings implements ChannelSettingsStore {
  private readonly cache: LRUCache<string, ChannelSettings>;

  constructor(
    private readonly db: Db,
    opts: { cacheSize?: number; cacheTtlMs?: number } = {},
  ) {
    this.cache = new LRUCache({ max: opts.cacheSize ?? 50_000, ttl: opts.cacheTtlMs ?? 15_000 });
  }

  async get(scope: TenantScope, channelId: string): Promise<ChannelSettings> {
    const key = `${scope.tenantId}\u0000${channelId}`;
    const hit = this.cache.get(key);
    if (hit) return { ...hit };
    const value = await this.load(scope, channelId);
    this.cache.set(key, value);
    return { ...value };
  }

  private async load(scope: TenantScope, channelId: string): Promise<ChannelSettings> {
    const [row] = await this.db
      .select()
      .from(channelSettings)
      .where(and(eq(channelSettings.tenantId, scope.tenantId), eq(channelSettings.channelId, channelId)))
      .limit(1);
    if (!row) return { ...defaultChannelSettings };
    return { mode: row.mode as ChannelMode, persona: row.persona, memoryMessages: row.memoryMessages, retrieval: row.retrieval };
  }

  async set(scope: TenantScope, channelId: string, patch: Partial<ChannelSettings>): Promise<ChannelSettings> {
    const merged = { ...(await this.load(scope, channelId)), ...patch };
    this.cache.delete(`${scope.tenantId}\u0000${channelId}`);
    await this.db
      .insert(channelSettings)
      .values({ tenantId: scope.tenantId, channelId, ...merged })
      .onConflictDoUpdate({
        target: [channelSettings.tenantId, channelSettings.channelId],
        set: { ...patch, updatedAt: new Date() },
      });
    this.cache.delete(`${scope.tenantId}\u0000${channelId}`);
    return merged;
  }
}
