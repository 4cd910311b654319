/**
 * Maps (platform, external id) to a tenant. Lookups are cached (LRU + TTL) because every
 * message resolves its tenant; every change through the registry invalidates the entry, and
 * the TTL bounds how long another instance can see a stale one.
 */
import { and, eq, sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../db/client.js';
import { tenants } from '../db/schema.js';
import { effectiveLimits, effectiveRetention } from '../limits/plans.js';
import type { Platform, Tenant, TenantScope, TenantStatus } from '../ports/tenancy.js';
import type { TenantDirectory } from '../ports/stores.js';

export interface TenantRegistryOptions {
  defaultPlan?: string;
  cacheSize?: number;
  /** 0 turns the cache off (a tool that must see another process's changes at once). */
  cacheTtlMs?: number;
}

type Row = typeof tenants.$inferSelect;

function toTenant(r: Row): Tenant {
  const limits = effectiveLimits(r.plan, r.limits ?? {});
  return {
    tenantId: r.id,
    platform: r.platform as Platform,
    externalId: r.externalId,
    name: r.name,
    status: r.status as TenantStatus,
    plan: r.plan,
    limitOverrides: r.limits ?? {},
    limits,
    defaultPersona: r.defaultPersona,
    retentionDays: effectiveRetention(limits, r.retentionDays),
    chosenRetentionDays: r.retentionDays,
    installedBy: r.installedBy,
    suggestedPrompts: r.suggestedPrompts ?? null,
    createdAt: r.createdAt,
  };
}

const key = (platform: string, externalId: string) => `${platform}\u0000${externalId}`;

export class TenantRegistry implements TenantDirectory {
  private readonly cache?: LRUCache<string, Tenant | false>;
  private readonly defaultPlan: string;

  constructor(
    private readonly db: Db,
    opts: TenantRegistryOptions = {},
  ) {
    this.defaultPlan = opts.defaultPlan ?? 'free';
    if (opts.cacheTtlMs !== 0) this.cache = new LRUCache({ max: opts.cacheSize ?? 10_000, ttl: opts.cacheTtlMs ?? 5_000 });
  }

  /** The tenant for an inbound event, or null if it was never installed. */
  async resolve(platform: Platform, externalId: string): Promise<Tenant | null> {
    const k = key(platform, externalId);
    const hit = this.cache?.get(k);
    if (hit !== undefined) return hit || null;
    const [row] = await this.db
      .select()
      .from(tenants)
      .where(and(eq(tenants.platform, platform), eq(tenants.externalId, externalId)))
      .limit(1);
    const t = row ? toTenant(row) : null;
    this.cache?.set(k, t ?? false);
    return t;
  }

  /** Creates the tenant, or reactivates an uninstalled one (an install or re-install). */
  async install(platform: Platform, externalId: string, info: { name?: string; installedBy?: string | null } = {}): Promise<Tenant> {
    const now = new Date();
    const [row] = await this.db
      .insert(tenants)
      .values({
        platform,
        externalId,
        name: info.name ?? '',
        installedBy: info.installedBy ?? null,
        plan: this.defaultPlan,
        status: 'active',
      })
      .onConflictDoUpdate({
        target: [tenants.platform, tenants.externalId],
        // A disabled tenant stays disabled: only the operator lifts that.
        set: {
          status: sqlReactivate(),
          ...(info.name ? { name: info.name } : {}),
          ...(info.installedBy ? { installedBy: info.installedBy } : {}),
          updatedAt: now,
        },
      })
      .returning();
    this.invalidate(platform, externalId);
    return toTenant(row!);
  }

  /** Console workspaces exist as soon as someone talks in them. */
  async ensure(platform: Platform, externalId: string, name = externalId): Promise<Tenant> {
    return (await this.resolve(platform, externalId)) ?? this.install(platform, externalId, { name });
  }

  async markUninstalled(platform: Platform, externalId: string): Promise<Tenant | null> {
    return this.update(platform, externalId, { status: 'uninstalled' });
  }

  async setStatus(platform: Platform, externalId: string, status: TenantStatus): Promise<Tenant | null> {
    return this.update(platform, externalId, { status });
  }

  /** Operator only: plan and limit overrides. */
  async setPlan(platform: Platform, externalId: string, plan: string, overrides?: Record<string, number>): Promise<Tenant | null> {
    return this.update(platform, externalId, { plan, ...(overrides ? { limits: overrides } : {}) });
  }

  async setDefaultPersona(scope: TenantScope, persona: string | null): Promise<void> {
    const [row] = await this.db
      .update(tenants)
      .set({ defaultPersona: persona, updatedAt: new Date() })
      .where(eq(tenants.id, scope.tenantId))
      .returning();
    if (row) this.invalidate(row.platform, row.externalId);
  }

  async setSuggestedPrompts(scope: TenantScope, prompts: readonly string[] | null): Promise<void> {
    const [row] = await this.db
      .update(tenants)
      .set({ suggestedPrompts: prompts ? [...prompts] : null, updatedAt: new Date() })
      .where(eq(tenants.id, scope.tenantId))
      .returning();
    if (row) this.invalidate(row.platform, row.externalId);
  }

  /** A tenant admin's retention (days, or null for the plan's longest); the caller checks it against the plan. */
  async setRetention(scope: TenantScope, days: number | null): Promise<Tenant | null> {
    const [row] = await this.db
      .update(tenants)
      .set({ retentionDays: days, updatedAt: new Date() })
      .where(eq(tenants.id, scope.tenantId))
      .returning();
    if (!row) return null;
    this.invalidate(row.platform, row.externalId);
    return toTenant(row);
  }

  async list(): Promise<Tenant[]> {
    const rows = await this.db.select().from(tenants).orderBy(tenants.platform, tenants.externalId);
    return rows.map(toTenant);
  }

  async get(scope: TenantScope): Promise<Tenant | null> {
    const [row] = await this.db.select().from(tenants).where(eq(tenants.id, scope.tenantId)).limit(1);
    return row ? toTenant(row) : null;
  }

  /** Deletes the tenant row; every tenant-owned row goes with it (on delete cascade). */
  async delete(scope: TenantScope): Promise<void> {
    const [row] = await this.db.delete(tenants).where(eq(tenants.id, scope.tenantId)).returning();
    if (row) this.invalidate(row.platform, row.externalId);
  }

  invalidate(platform: string, externalId: string): void {
    this.cache?.delete(key(platform, externalId));
  }

  private async update(platform: Platform, externalId: string, set: Partial<typeof tenants.$inferInsert>): Promise<Tenant | null> {
    const [row] = await this.db
      .update(tenants)
      .set({ ...set, updatedAt: new Date() })
      .where(and(eq(tenants.platform, platform), eq(tenants.externalId, externalId)))
      .returning();
    this.invalidate(platform, externalId);
    return row ? toTenant(row) : null;
  }
}

function sqlReactivate() {
  return sql`case when ${tenants.status} = 'disabled' then 'disabled' else 'active' end`;
}
