import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { HubApiError } from '../../sdk/errors.js';
import { writePrivateFile } from '../config.js';
import { type CliContext, createContext } from '../context.js';
import { CliError } from '../errors.js';
import { emit } from '../output.js';
import type { Command } from './types.js';

/** What a sync blob holds: files keyed by `~/…` (home-relative) or absolute path. */
const Bundle = z.object({
  format: z.literal('wsh-sync/1'),
  files: z.array(z.object({ path: z.string(), content_base64: z.string() })),
});
type Bundle = z.infer<typeof Bundle>;

function portablePath(abs: string): string {
  const rel = relative(homedir(), abs);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep)
    ? `~/${rel.split(sep).join('/')}`
    : abs;
}

function localPath(portable: string): string {
  return portable.startsWith('~/') ? join(homedir(), ...portable.slice(2).split('/')) : portable;
}

function collect(abs: string, out: Bundle['files']): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(abs);
  } catch {
    throw new CliError(`${abs}: no such file or directory`);
  }
  if (st.isDirectory()) {
    for (const entry of readdirSync(abs).sort()) collect(join(abs, entry), out);
  } else if (st.isFile()) {
    out.push({ path: portablePath(abs), content_base64: readFileSync(abs).toString('base64') });
  }
}

async function conflictMessage(ctx: CliContext, name: string): Promise<string> {
  const current = await ctx.client.getSync(name);
  const by = current?.device_id ? `device ${current.device_id}` : 'another device';
  return `sync push ${name}: conflict: ${by} changed it${current ? ` at ${current.updated_at}` : ''} since this device last pulled; run \`wsh sync pull ${name}\` first, or push with --force to overwrite`;
}

async function push(ctx: CliContext, name: string, paths: string[], force: boolean) {
  if (!paths.length) throw new CliError('usage: wsh sync push NAME PATH…');
  const files: Bundle['files'] = [];
  for (const p of paths) collect(resolve(p), files);
  const content = JSON.stringify({ format: 'wsh-sync/1', files } satisfies Bundle);
  let ifMatch = ctx.config.syncEtag(ctx.hubName, name);
  if (force) ifMatch = (await ctx.client.getSync(name))?.etag;
  try {
    const blob = await ctx.client.putSync(name, content, { ifMatch, deviceId: ctx.deviceId });
    ctx.config.setSyncEtag(ctx.hubName, name, blob.etag);
    emit(
      ctx,
      { name, etag: blob.etag, version: blob.version, files: files.map((f) => f.path) },
      `pushed ${name} v${blob.version}: ${files.length} file(s)`,
    );
  } catch (err) {
    if (err instanceof HubApiError && err.status === 412)
      throw new CliError(await conflictMessage(ctx, name));
    throw err;
  }
}

async function pull(ctx: CliContext, name: string, only: string[]) {
  const blob = await ctx.client.getSync(name);
  if (!blob) throw new CliError(`sync pull ${name}: nothing synced under that name`);
  const parsed = Bundle.safeParse(JSON.parse(blob.content));
  if (!parsed.success) throw new CliError(`sync pull ${name}: not a wsh sync bundle`);
  const wanted = only.map((p) => portablePath(resolve(p)));
  const files = parsed.data.files.filter(
    (f) => !wanted.length || wanted.some((w) => f.path === w || f.path.startsWith(`${w}/`)),
  );
  for (const f of files) {
    const dest = localPath(f.path);
    mkdirSync(dirname(dest), { recursive: true });
    writePrivateFile(dest, Buffer.from(f.content_base64, 'base64'));
  }
  ctx.config.setSyncEtag(ctx.hubName, name, blob.etag);
  emit(
    ctx,
    {
      name,
      etag: blob.etag,
      version: blob.version,
      device_id: blob.device_id,
      files: files.map((f) => f.path),
    },
    `pulled ${name} v${blob.version} (from ${blob.device_id ?? 'unknown device'}): ${files.map((f) => f.path).join(', ') || 'no files'}`,
  );
}

export const sync: Command = {
  usage: 'sync push|pull NAME PATH… [--force]',
  summary: 'Share settings files (e.g. ~/.gemini/settings.json) between devices',
  options: { force: { type: 'boolean' } },
  async run({ flags, positionals }) {
    const [verb, name, ...paths] = positionals;
    if ((verb !== 'push' && verb !== 'pull') || !name)
      throw new CliError('usage: wsh sync push|pull NAME PATH…');
    const ctx = createContext(flags);
    if (verb === 'push') await push(ctx, name, paths, Boolean(flags.force));
    else await pull(ctx, name, paths);
    return 0;
  },
};
