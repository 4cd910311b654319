/**
 * Plans and their limits. Only the operator (CLI or config) assigns a plan or overrides a
 * limit; nothing a tenant admin can say reaches these.
 */
import { z } from 'zod';
import type { TenantLimits } from '../ports/tenancy.js';

export const limitKeys = [
  'maxConcurrent',
  'requestsPerMinute',
  'tokensPerDay',
  'maxQueued',
  'maxDocuments',
  'maxChunks',
  'maxFileBytes',
  'retentionDays',
  'weight',
] as const satisfies readonly (keyof TenantLimits)[];

/** Limits that make no sense at 0 (a day of memory is the least a conversation needs). */
export const limitMinimums: Partial<Record<keyof TenantLimits, number>> = { retentionDays: 1, weight: 1 };

export const limitOverridesSchema = z
  .object(Object.fromEntries(limitKeys.map((k) => [k, z.number().int().min(limitMinimums[k] ?? 0).max(1e12).optional()])) as Record<
    keyof TenantLimits,
    z.ZodOptional<z.ZodNumber>
  >)
  .strict();

export const plans: Record<string, TenantLimits> = {
  free: {
    maxConcurrent: 1,
    requestsPerMinute: 10,
    tokensPerDay: 50_000,
    maxQueued: 5,
    maxDocuments: 20,
    maxChunks: 2_000,
    maxFileBytes: 2 * 1024 * 1024,
    retentionDays: 30,
    weight: 1,
  },
  team: {
    maxConcurrent: 2,
    requestsPerMinute: 60,
    tokensPerDay: 500_000,
    maxQueued: 20,
    maxDocuments: 500,
    maxChunks: 50_000,
    maxFileBytes: 10 * 1024 * 1024,
    retentionDays: 90,
    weight: 2,
  },
  enterprise: {
    maxConcurrent: 4,
    requestsPerMinute: 300,
    tokensPerDay: 5_000_000,
    maxQueued: 100,
    maxDocuments: 5_000,
    maxChunks: 500_000,
    maxFileBytes: 25 * 1024 * 1024,
    retentionDays: 365,
    weight: 4,
  },
};

export function isPlan(name: string): boolean {
  return Object.hasOwn(plans, name);
}

/** Days a tenant's conversations are kept: the admin's choice when it is shorter than the plan's longest. */
export function effectiveRetention(limits: TenantLimits, chosen: number | null): number {
  return chosen === null ? limits.retentionDays : Math.min(chosen, limits.retentionDays);
}

/** The plan's limits with the operator's per-tenant overrides on top. */
export function effectiveLimits(plan: string, overrides: Partial<Record<string, number>>): TenantLimits {
  const base = plans[plan] ?? plans.free!;
  const out: TenantLimits = { ...base };
  for (const k of limitKeys) {
    const v = overrides[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}
