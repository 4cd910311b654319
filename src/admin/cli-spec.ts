/**
 * What an operator command is, for run.ts and the modules that declare commands: the options
 * every command may name (each accepts only its own), the values they parse to, the CLI's I/O.
 */
import type { AdminDeps } from './commands.js';

export const optionSpec = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  set: { type: 'string', multiple: true },
  unset: { type: 'string', multiple: true },
  clear: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  tenant: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  out: { type: 'string' },
  limit: { type: 'string' },
  service: { type: 'string' },
} as const;

export type OptionName = keyof typeof optionSpec;
export type Values = {
  json?: boolean;
  set?: string[];
  unset?: string[];
  clear?: boolean;
  yes?: boolean;
  tenant?: string;
  from?: string;
  to?: string;
  out?: string;
  limit?: string;
  service?: string;
};

export interface AdminIo {
  out(text: string): void;
  err(text: string): void;
  /** Where a progress bar may draw (stderr). */
  progress: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface CommandSpec {
  /** e.g. ['tenants', 'plan'] */
  name: string[];
  args: string[];
  options: OptionName[];
  needsDeps: boolean;
  /** Resolves with the exit code when it is not 0 (a partial failure). */
  run(c: { deps: AdminDeps; args: string[]; v: Values; io: AdminIo; env: NodeJS.ProcessEnv }): Promise<number | void>;
}

export const print = (io: AdminIo, v: Values, data: unknown, text: () => string) =>
  io.out(v.json ? JSON.stringify(data, null, 2) : text());
