/**
 * Application commands in the fake Discord: the checks Discord applies to a bulk overwrite
 * (PUT .../commands), and the interaction `options` a Discord client would send for a
 * registered command — so a test can only invoke what the adapter really registered.
 */
import { snowflake } from './discord-payloads.js';

export interface CommandOption {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  choices?: { name: string; value: string | number }[];
  options?: CommandOption[];
  min_value?: number;
  max_value?: number;
  max_length?: number;
}

export interface RegisteredCommand {
  id: string;
  application_id: string;
  guild_id?: string;
  name: string;
  description: string;
  type: number;
  options?: CommandOption[];
  default_member_permissions: string | null;
  contexts?: number[] | null;
  version: string;
}

const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const SUB = 1;
const GROUP = 2;
const VALUE_TYPES = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11]);

function checkName(where: string, name: unknown): void {
  if (typeof name !== 'string' || !NAME.test(name) || name !== name.toLowerCase()) throw new Error(`${where}: invalid name ${JSON.stringify(name)}`);
}
function checkDescription(where: string, d: unknown): void {
  if (typeof d !== 'string' || d.length < 1 || d.length > 100) throw new Error(`${where}: description must be 1-100 characters`);
}

function checkOptions(where: string, options: CommandOption[] | undefined, level: 'top' | 'group' | 'sub'): void {
  if (!options) return;
  if (options.length > 25) throw new Error(`${where}: more than 25 options`);
  const names = new Set<string>();
  let optionalSeen = false;
  const kinds = new Set(options.map((o) => (o.type === SUB || o.type === GROUP ? 'sub' : 'value')));
  if (kinds.size > 1) throw new Error(`${where}: subcommands and value options cannot be mixed`);
  for (const o of options) {
    const w = `${where}.${o.name}`;
    checkName(w, o.name);
    checkDescription(w, o.description);
    if (names.has(o.name)) throw new Error(`${w}: duplicate option name`);
    names.add(o.name);
    if (o.type === GROUP) {
      if (level !== 'top') throw new Error(`${w}: subcommand groups only at the top level`);
      if (!o.options?.length || o.options.some((s) => s.type !== SUB)) throw new Error(`${w}: a group holds subcommands only`);
      checkOptions(w, o.options, 'group');
    } else if (o.type === SUB) {
      if (level === 'sub') throw new Error(`${w}: subcommands cannot nest here`);
      checkOptions(w, o.options, 'sub');
    } else {
      if (!VALUE_TYPES.has(o.type)) throw new Error(`${w}: unknown option type ${o.type}`);
      if (o.required) {
        if (optionalSeen) throw new Error(`${w}: required options must be placed before non-required options`);
      } else optionalSeen = true;
      if (o.choices && o.choices.length > 25) throw new Error(`${w}: more than 25 choices`);
    }
  }
}

/** Validates a bulk overwrite body and returns the stored commands (with ids), or throws. */
export function registerOrThrow(body: unknown, applicationId: string, guildId?: string): RegisteredCommand[] {
  if (!Array.isArray(body)) throw new Error('body must be an array of commands');
  if (body.length > 100) throw new Error('more than 100 commands');
  const seen = new Set<string>();
  return body.map((c: any) => {
    checkName('command', c.name);
    if (seen.has(c.name)) throw new Error(`duplicate command ${c.name}`);
    seen.add(c.name);
    if ((c.type ?? 1) === 1) checkDescription(c.name, c.description);
    checkOptions(c.name, c.options, 'top');
    if (JSON.stringify(c).length > 8000) throw new Error(`${c.name}: combined command text exceeds 8000 characters`);
    return {
      id: snowflake(),
      application_id: applicationId,
      ...(guildId ? { guild_id: guildId } : {}),
      name: c.name,
      description: c.description,
      type: c.type ?? 1,
      options: c.options,
      default_member_permissions: c.default_member_permissions ?? null,
      contexts: c.contexts ?? null,
      version: snowflake(),
    };
  });
}

/** The interaction `data.options` for invoking `path` of a registered command with `values`. */
export function optionsFor(cmd: RegisteredCommand, path: string[], values: Record<string, string | number | boolean>): unknown[] {
  let level = cmd.options ?? [];
  const wrappers: { type: number; name: string }[] = [];
  for (const name of path) {
    const o = level.find((x) => x.name === name && (x.type === SUB || x.type === GROUP));
    if (!o) throw new Error(`/${cmd.name} has no subcommand ${path.join(' ')}`);
    wrappers.push({ type: o.type, name });
    level = o.options ?? [];
  }
  if (level.some((o) => o.type === SUB || o.type === GROUP)) throw new Error(`/${cmd.name} ${path.join(' ')} needs a subcommand`);
  for (const k of Object.keys(values)) if (!level.some((o) => o.name === k)) throw new Error(`/${cmd.name} ${path.join(' ')} has no option ${k}`);
  const leaf = level
    .filter((o) => {
      if (values[o.name] === undefined && o.required) throw new Error(`option ${o.name} is required`);
      return values[o.name] !== undefined;
    })
    .map((o) => {
      const value = values[o.name]!;
      if (o.choices && !o.choices.some((c) => c.value === value)) throw new Error(`${o.name}: ${value} is not one of the choices`);
      if ((o.type === 4 || o.type === 10) && typeof value !== 'number') throw new Error(`${o.name} must be a number`);
      return { type: o.type, name: o.name, value };
    });
  let options: unknown[] = leaf;
  for (const w of wrappers.reverse()) options = [{ type: w.type, name: w.name, options }];
  return options;
}
