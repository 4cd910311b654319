/**
 * Validation of what the operator types. Every refusal is an AdminInputError whose message is
 * one line saying what was wrong and what is accepted, so the CLI can print it as-is.
 */
import { limitKeys, limitMinimums, limitOverridesSchema, plans } from '../limits/plans.js';
import type { Platform, TenantLimits } from '../ports/tenancy.js';

export class AdminInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminInputError';
  }
}

export const platforms: readonly Platform[] = ['slack', 'discord', 'console'];

export interface TenantRef {
  platform: Platform;
  externalId: string;
}

export function parsePlatform(raw: string): Platform {
  if ((platforms as readonly string[]).includes(raw)) return raw as Platform;
  throw new AdminInputError(`unknown platform "${raw}"; use one of: ${platforms.join(', ')}`);
}

export function tenantRef(platform: string, externalId: string): TenantRef {
  if (!externalId) throw new AdminInputError('missing external id (Slack team id, Discord guild id or console workspace)');
  return { platform: parsePlatform(platform), externalId };
}

/** `slack:T123` (the external id may itself contain colons). */
export function parseTenantRef(raw: string): TenantRef {
  const i = raw.indexOf(':');
  if (i <= 0) throw new AdminInputError(`bad tenant "${raw}"; write it as platform:externalId, e.g. slack:T0123ABCD`);
  return tenantRef(raw.slice(0, i), raw.slice(i + 1));
}

export function parsePlan(raw: string): string {
  if (Object.hasOwn(plans, raw)) return raw;
  throw new AdminInputError(`unknown plan "${raw}"; plans: ${Object.keys(plans).join(', ')}`);
}

export function parseLimitKey(raw: string): keyof TenantLimits {
  if ((limitKeys as readonly string[]).includes(raw)) return raw as keyof TenantLimits;
  throw new AdminInputError(`unknown limit "${raw}"; limits: ${limitKeys.join(', ')}`);
}

/**
 * `--set key=value` pairs into validated overrides. Values are whole numbers; `_` and `,` are
 * accepted as digit separators (100_000) because operators type large token counts.
 */
export function parseLimitAssignments(assignments: readonly string[]): Partial<TenantLimits> {
  const out: Record<string, number> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new AdminInputError(`bad --set "${a}"; write it as key=value, e.g. --set maxConcurrent=2`);
    const key = parseLimitKey(a.slice(0, eq).trim());
    const rawValue = a.slice(eq + 1).trim();
    const cleaned = rawValue.replace(/[_,]/g, '');
    const value = /^\d+$/.test(cleaned) ? Number(cleaned) : Number.NaN;
    const checked = limitOverridesSchema.safeParse({ [key]: value });
    if (!checked.success || Number.isNaN(value)) {
      throw new AdminInputError(`bad value for ${key}: "${rawValue}"; use a whole number from ${limitMinimums[key] ?? 0} to 1000000000000`);
    }
    out[key] = value;
  }
  // The whole set through the schema once more, so this function and the database agree.
  return limitOverridesSchema.parse(out) as Partial<TenantLimits>;
}

/** A UTC day as YYYY-MM-DD that really exists (2026-02-30 is refused). */
export function parseDay(raw: string, flag: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!d || d.toISOString().slice(0, 10) !== raw) {
    throw new AdminInputError(`bad ${flag} "${raw}"; use a date as YYYY-MM-DD`);
  }
  return raw;
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
