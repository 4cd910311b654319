/** Per-channel behaviour: answer mode, persona, memory window, retrieval on/off. */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { channelSettings } from '../db/schema.js';
import type { TenantScope } from '../core/ports.js';

export type ChannelMode = 'mention' | 'all' | 'off';
export const channelModes: readonly ChannelMode[] = ['mention', 'all', 'off'];

export interface ChannelSettings {
  mode: ChannelMode;
  persona: string | null;
  memoryMessages: number | null;
  retrieval: boolean;
}

export const defaultChannelSettings: ChannelSettings = { mode: 'mention', persona: null, memoryMessages: null, retrieval: true };

export class ChannelSettingsStore {
  constructor(private readonly db: Db) {}

  async get(scope: TenantScope, channelId: string): Promise<ChannelSettings> {
    const [row] = await this.db
      .select()
      .from(channelSettings)
      .where(and(eq(channelSettings.tenantId, scope.tenantId), eq(channelSettings.channelId, channelId)))
      .limit(1);
    if (!row) return { ...defaultChannelSettings };
    return { mode: row.mode as ChannelMode, persona: row.persona, memoryMessages: row.memoryMessages, retrieval: row.retrieval };
  }

  async set(scope: TenantScope, channelId: string, patch: Partial<ChannelSettings>): Promise<ChannelSettings> {
    const merged = { ...(await this.get(scope, channelId)), ...patch };
    await this.db
      .insert(channelSettings)
      .values({ tenantId: scope.tenantId, channelId, ...merged })
      .onConflictDoUpdate({
        target: [channelSettings.tenantId, channelSettings.channelId],
        set: { ...patch, updatedAt: new Date() },
      });
    return merged;
  }
}
