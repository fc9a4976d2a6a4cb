/**
 * The environment tables of docs/ARCHITECTURE.md, made from the config
 * schemas' descriptions so the document cannot drift from the code: each
 * table sits between `<!-- env:NAME -->` and `<!-- /env:NAME -->`.
 */
import { z } from 'zod';
import { ClientEnvSchema } from '../client/src/env.js';
import { HubConfigSchema } from '../hub/src/config.js';
import { AgentEnvSchema } from '../vm-agent/src/config.js';

interface EnvTable {
  name: string;
  shape: Record<string, z.ZodType>;
  /** Hub variables carry their defaults in the schema; the others say them in words. */
  withDefaults: boolean;
}

/** The object of variables under a config schema's whole-config checks and transforms. */
function variablesOf(schema: z.ZodType): Record<string, z.ZodType> {
  if (schema instanceof z.ZodObject) return schema.shape;
  if (schema instanceof z.ZodPipe) return variablesOf(schema.in as z.ZodType);
  throw new Error('a config schema must be a z.object, possibly piped into a transform');
}

const TABLES: EnvTable[] = [
  { name: 'hub', shape: variablesOf(HubConfigSchema), withDefaults: true },
  { name: 'agent', shape: AgentEnvSchema.shape, withDefaults: false },
  { name: 'client', shape: ClientEnvSchema.shape, withDefaults: false },
];

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** What the variable is when unset, as the schema parses an absent value. */
function defaultOf(schema: z.ZodType): string {
  const r = schema.safeParse(undefined);
  if (!r.success || r.data === undefined) return '—';
  if (Array.isArray(r.data)) return r.data.length ? `\`${r.data.join(',')}\`` : '—';
  return `\`${String(r.data)}\``;
}

function renderTable(table: EnvTable): string {
  const rows = Object.entries(table.shape).map(([variable, schema]) => {
    const description = schema.description;
    if (!description)
      throw new Error(`${table.name} variable ${variable} has no .describe() in its schema`);
    return table.withDefaults
      ? `| \`${variable}\` | ${defaultOf(schema)} | ${cell(description)} |`
      : `| \`${variable}\` | ${cell(description)} |`;
  });
  const head = table.withDefaults
    ? ['| variable | default | meaning |', '| --- | --- | --- |']
    : ['| variable | meaning |', '| --- | --- |'];
  return [...head, ...rows].join('\n');
}

/** The document with every marked table rewritten from the schemas. */
export function rewriteEnvTables(markdown: string): string {
  let out = markdown;
  for (const table of TABLES) {
    const open = `<!-- env:${table.name} -->`;
    const close = `<!-- /env:${table.name} -->`;
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start < 0 || end < start) throw new Error(`no ${open} … ${close} block in the document`);
    out = `${out.slice(0, start + open.length)}\n${renderTable(table)}\n${out.slice(end)}`;
  }
  return out;
}

export const ARCHITECTURE_MD = new URL('./ARCHITECTURE.md', import.meta.url);
