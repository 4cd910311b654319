/**
 * The shared kernel of tenancy: which platform a message came from, the scope every store
 * takes, and what the engine knows about a tenant. A leaf: imports nothing of the project.
 */

export type Platform = 'slack' | 'discord' | 'console';
export const platforms: readonly Platform[] = ['slack', 'discord', 'console'];

/**
 * Proof that a caller resolved a tenant. Every store method takes one; stores filter by
 * `tenantId` and nothing else decides which tenant's rows a query sees.
 */
export interface TenantScope {
  readonly tenantId: string;
}

export type TenantStatus = 'active' | 'uninstalled' | 'disabled';

export interface TenantLimits {
  /** Requests of this tenant running on the backend at once. */
  maxConcurrent: number;
  requestsPerMinute: number;
  /** Prompt + completion tokens per UTC day. */
  tokensPerDay: number;
  /** Requests of this tenant waiting for a slot before new ones get "busy". */
  maxQueued: number;
  maxDocuments: number;
  maxChunks: number;
  maxFileBytes: number;
  /** Longest time conversation memory is kept, in days; a tenant admin may choose less, never more. */
  retentionDays: number;
  /**
   * Share of the backends when tenants compete (token-fair order): a tenant of weight 2 gets
   * twice the tokens of one of weight 1 while both wait. Operator-set, like every limit.
   */
  weight: number;
}

export interface Tenant extends TenantScope {
  readonly platform: Platform;
  readonly externalId: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly plan: string;
  readonly limitOverrides: Record<string, number>;
  readonly limits: TenantLimits;
  readonly defaultPersona: string | null;
  /** Days conversation memory is kept: the admin's choice, at most the plan's `limits.retentionDays`. */
  readonly retentionDays: number;
  /** What a tenant admin chose with `retention <days>`; null keeps the plan's longest. */
  readonly chosenRetentionDays: number | null;
  readonly installedBy: string | null;
  /** Suggested prompts an admin set for the assistant view; null = the built-in ones. */
  readonly suggestedPrompts: readonly string[] | null;
  readonly createdAt: Date;
}
