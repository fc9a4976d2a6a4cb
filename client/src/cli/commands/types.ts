import type { ParseArgsConfig } from 'node:util';

type ParseArgsOption = NonNullable<ParseArgsConfig['options']>[string];

export interface OptionDescriptor extends ParseArgsOption {
  /**
   * The request-body field this flag's value is sent as: a hub refusal naming
   * that field is reported to the user as this flag, which is what they typed.
   */
  field?: string;
}

export type OptionSpec = Record<string, OptionDescriptor>;

/** The flag (without `--`) that `options` declares as sending `field`, if any. */
export function flagOfField(options: OptionSpec | undefined, field: string): string | undefined {
  return Object.entries(options ?? {}).find(([, o]) => o.field === field)?.[0];
}
export type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandInput {
  flags: Flags;
  positionals: string[];
  /** Words after `--`. */
  rest: string[];
}

export interface Command {
  usage: string;
  summary: string;
  options?: OptionSpec;
  run(input: CommandInput): Promise<number | undefined>;
}

export function str(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function int(flags: Flags, name: string, fallback?: number): number | undefined {
  const v = str(flags, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: not a whole number: ${v}`);
  return n;
}
