/**
 * Personas: built-in rows (no tenant) plus each tenant's own. A tenant's persona of the same
 * name cannot exist: built-in names are reserved so "persona use X" always means one thing.
 */
import { and, eq, isNull, or } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../db/client.js';
import { personas } from '../db/schema.js';
import { builtinPersonas } from './builtins.js';
import { BotError, ErrorCode } from '../ports/errors.js';
import type { TenantScope } from '../ports/tenancy.js';
import { personaLimits, type Persona, type PersonaCatalog, type PersonaInput } from '../ports/stores.js';

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,99}(:[A-Za-z0-9._-]{1,64})?$/;
const MAX_PERSONAS_PER_TENANT = 50;

/** Checks that a model exists on the backend; injected so the store stays testable. */
export type ModelCheck = (model: string) => Promise<boolean>;

type Row = typeof personas.$inferSelect;
const toPersona = (r: Row): Persona => ({
  name: r.name,
  systemPrompt: r.systemPrompt,
  model: r.model,
  temperature: r.temperature,
  maxTokens: r.maxTokens,
  builtin: r.tenantId === null,
});

export class PersonaStore implements PersonaCatalog {
  /** Read on every answer, changed rarely: cached per (tenant, name), cleared on change. */
  private readonly cache = new LRUCache<string, Persona | false>({ max: 20_000, ttl: 15_000 });

  constructor(
    private readonly db: Db,
    private readonly hasModel: ModelCheck = async () => true,
  ) {}

  /** Writes the built-in rows; idempotent, run at start-up. */
  async seedBuiltins(): Promise<void> {
    for (const p of builtinPersonas) {
      const existing = await this.db
        .select({ id: personas.id })
        .from(personas)
        .where(and(isNull(personas.tenantId), eq(personas.name, p.name)))
        .limit(1);
      if (existing[0]) {
        await this.db
          .update(personas)
          .set({ systemPrompt: p.systemPrompt, model: p.model, temperature: p.temperature, maxTokens: p.maxTokens })
          .where(eq(personas.id, existing[0].id));
      } else {
        await this.db.insert(personas).values({ tenantId: null, ...p });
      }
    }
  }

  /** Built-ins first, then the tenant's own, by name. */
  async list(scope: TenantScope): Promise<Persona[]> {
    const rows = await this.db
      .select()
      .from(personas)
      .where(or(isNull(personas.tenantId), eq(personas.tenantId, scope.tenantId)))
      .orderBy(personas.name);
    return rows.map(toPersona).sort((a, b) => Number(b.builtin) - Number(a.builtin));
  }

  async get(scope: TenantScope, name: string): Promise<Persona | null> {
    const key = `${scope.tenantId}\u0000${name}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit || null;
    const found = await this.load(scope, name);
    this.cache.set(key, found ?? false);
    return found;
  }

  private async load(scope: TenantScope, name: string): Promise<Persona | null> {
    const rows = await this.db
      .select()
      .from(personas)
      .where(and(eq(personas.name, name), or(isNull(personas.tenantId), eq(personas.tenantId, scope.tenantId))));
    const own = rows.find((r) => r.tenantId !== null) ?? rows[0];
    return own ? toPersona(own) : null;
  }

  async create(scope: TenantScope, input: PersonaInput, createdBy: string): Promise<Persona> {
    await this.validate(input);
    if (builtinPersonas.some((b) => b.name === input.name)) {
      throw new BotError(ErrorCode.InvalidInput, `"${input.name}" is a built-in persona; choose another name.`);
    }
    const count = (await this.list(scope)).filter((p) => !p.builtin).length;
    const existing = await this.get(scope, input.name);
    if (!existing && count >= MAX_PERSONAS_PER_TENANT) {
      throw new BotError(ErrorCode.LimitReached, (v) => `This ${v.workspace} already has ${MAX_PERSONAS_PER_TENANT} personas; delete one first.`);
    }
    const values = {
      tenantId: scope.tenantId,
      name: input.name,
      systemPrompt: input.systemPrompt,
      model: input.model ?? null,
      temperature: input.temperature ?? null,
      maxTokens: input.maxTokens ?? null,
      createdBy,
    };
    if (existing) {
      await this.db
        .update(personas)
        .set({ ...values, updatedAt: new Date() })
        .where(and(eq(personas.tenantId, scope.tenantId), eq(personas.name, input.name)));
    } else {
      await this.db.insert(personas).values(values);
    }
    this.cache.delete(`${scope.tenantId}\u0000${input.name}`);
    return { ...values, builtin: false };
  }

  /** Deletes a tenant persona; built-ins cannot be deleted. Returns false if none matched. */
  async delete(scope: TenantScope, name: string): Promise<boolean> {
    if (builtinPersonas.some((b) => b.name === name)) {
      throw new BotError(ErrorCode.InvalidInput, `"${name}" is built in and cannot be deleted.`);
    }
    const rows = await this.db
      .delete(personas)
      .where(and(eq(personas.tenantId, scope.tenantId), eq(personas.name, name)))
      .returning({ id: personas.id });
    this.cache.delete(`${scope.tenantId}\u0000${name}`);
    return rows.length > 0;
  }

  private async validate(p: PersonaInput): Promise<void> {
    const { name, systemPrompt, temperature, maxTokens } = personaLimits;
    if (!name.pattern.test(p.name)) {
      throw new BotError(ErrorCode.InvalidInput, `A persona name is ${name.rule}.`);
    }
    const prompt = p.systemPrompt.trim();
    if (prompt.length < 1 || prompt.length > systemPrompt.maxLength) {
      throw new BotError(ErrorCode.InvalidInput, `A system prompt is 1–${systemPrompt.maxLength} characters.`);
    }
    if (p.temperature != null && !(p.temperature >= temperature.min && p.temperature <= temperature.max)) {
      throw new BotError(ErrorCode.InvalidInput, `Temperature must be between ${temperature.min} and ${temperature.max}.`);
    }
    if (p.maxTokens != null && !(Number.isInteger(p.maxTokens) && p.maxTokens >= maxTokens.min && p.maxTokens <= maxTokens.max)) {
      throw new BotError(ErrorCode.InvalidInput, `Max tokens must be a whole number from ${maxTokens.min} to ${maxTokens.max}.`);
    }
    if (p.model != null) {
      if (!MODEL_NAME.test(p.model)) throw new BotError(ErrorCode.InvalidInput, `"${p.model}" is not a valid model name.`);
      if (!(await this.hasModel(p.model))) {
        throw new BotError(ErrorCode.InvalidInput, `The model "${p.model}" is not available on this deployment's backend.`);
      }
    }
  }
}
