/** Tokens and requests per tenant and UTC day, metered from the backend's own counts. */
import { and, eq, gte, lte, sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../db/client.js';
import { usage } from '../db/schema.js';
import type { TenantScope } from '../ports/tenancy.js';
import type { QuotaReservation, UsageDelta, UsageLedger, UsageTotals } from '../ports/stores.js';

export interface DailyUsage extends UsageTotals {
  day: string;
}

export const utcDay = (d: Date = new Date()) => d.toISOString().slice(0, 10);

export class UsageMeter implements UsageLedger {
  /**
   * Today's totals per tenant, read before every answer for the quota check. This instance's
   * own usage is added as it is recorded, so its view is exact; other instances' usage shows
   * up within the TTL, which is the slack a daily quota can live with.
   */
  private readonly todayCache = new LRUCache<string, { day: string; totals: UsageTotals }>({ max: 20_000, ttl: 10_000 });

  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(scope: TenantScope, delta: UsageDelta): Promise<void> {
    const v = {
      requests: delta.requests ?? 0,
      promptTokens: delta.promptTokens ?? 0,
      completionTokens: delta.completionTokens ?? 0,
      rejected: delta.rejected ?? 0,
    };
    const day = utcDay(this.now());
    const release = delta.release && delta.release.tokens > 0 ? delta.release : undefined;
    // Metering and releasing on the same day is one statement (no moment where both or neither count).
    const released = release?.day === day ? release.tokens : 0;
    await this.db
      .insert(usage)
      .values({ tenantId: scope.tenantId, day, ...v })
      .onConflictDoUpdate({
        target: [usage.tenantId, usage.day],
        set: {
          requests: sql`${usage.requests} + ${v.requests}`,
          promptTokens: sql`${usage.promptTokens} + ${v.promptTokens}`,
          completionTokens: sql`${usage.completionTokens} + ${v.completionTokens}`,
          rejected: sql`${usage.rejected} + ${v.rejected}`,
          reservedTokens: sql`greatest(0, ${usage.reservedTokens} - ${released})`,
        },
      });
    // A reservation from before midnight is released on its own day.
    if (release && release.day !== day) {
      await this.db
        .update(usage)
        .set({ reservedTokens: sql`greatest(0, ${usage.reservedTokens} - ${release.tokens})` })
        .where(and(eq(usage.tenantId, scope.tenantId), eq(usage.day, release.day)));
    }
    const cached = this.todayCache.get(scope.tenantId);
    if (cached && cached.day === utcDay(this.now())) {
      const t = cached.totals;
      t.requests += v.requests;
      t.promptTokens += v.promptTokens;
      t.completionTokens += v.completionTokens;
      t.rejected += v.rejected;
      t.tokens += v.promptTokens + v.completionTokens;
    }
  }

  async reserve(scope: TenantScope, tokens: number, limit: number): Promise<QuotaReservation | 'spent' | 'held'> {
    const day = utcDay(this.now());
    const amount = Math.max(0, Math.ceil(tokens));
    if (limit <= 0) return 'spent';
    // Granted while used + reserved is below the limit: the check and the hold are one statement,
    // so instances racing on one tenant cannot both see room that only one of them has.
    const rows = await this.db
      .insert(usage)
      .values({ tenantId: scope.tenantId, day, reservedTokens: amount })
      .onConflictDoUpdate({
        target: [usage.tenantId, usage.day],
        set: { reservedTokens: sql`${usage.reservedTokens} + ${amount}` },
        setWhere: sql`${usage.promptTokens} + ${usage.completionTokens} + ${usage.reservedTokens} < ${limit}`,
      })
      .returning({ day: usage.day });
    if (rows.length > 0) return { day, tokens: amount };
    const [row] = await this.db
      .select({ used: sql<number>`${usage.promptTokens} + ${usage.completionTokens}`.mapWith(Number) })
      .from(usage)
      .where(and(eq(usage.tenantId, scope.tenantId), eq(usage.day, day)));
    return (row?.used ?? 0) >= limit ? 'spent' : 'held';
  }

  async today(scope: TenantScope): Promise<UsageTotals> {
    const day = utcDay(this.now());
    const cached = this.todayCache.get(scope.tenantId);
    if (cached && cached.day === day) return { ...cached.totals };
    const totals = await this.between(scope, day, day);
    this.todayCache.set(scope.tenantId, { day, totals: { ...totals } });
    return totals;
  }

  async thisMonth(scope: TenantScope): Promise<UsageTotals> {
    const today = utcDay(this.now());
    return this.between(scope, `${today.slice(0, 7)}-01`, today);
  }

  async between(scope: TenantScope, from: string, to: string): Promise<UsageTotals> {
    const days = await this.days(scope, from, to);
    const t = { requests: 0, promptTokens: 0, completionTokens: 0, rejected: 0, tokens: 0 };
    for (const d of days) {
      t.requests += d.requests;
      t.promptTokens += d.promptTokens;
      t.completionTokens += d.completionTokens;
      t.rejected += d.rejected;
      t.tokens += d.tokens;
    }
    return t;
  }

  async days(scope: TenantScope, from: string, to: string): Promise<DailyUsage[]> {
    const rows = await this.db
      .select()
      .from(usage)
      .where(and(eq(usage.tenantId, scope.tenantId), gte(usage.day, from), lte(usage.day, to)))
      .orderBy(usage.day);
    return rows.map((r) => ({
      day: r.day,
      requests: r.requests,
      promptTokens: Number(r.promptTokens),
      completionTokens: Number(r.completionTokens),
      rejected: r.rejected,
      tokens: Number(r.promptTokens) + Number(r.completionTokens),
    }));
  }
}
