import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { clientEnv } from '../env.js';
import { CliError } from './errors.js';

const HubEntry = z.object({
  url: z.string(),
  /** Set for local hubs (`HUB_AUTH=dev`); an identity, not a secret. */
  dev_email: z.string().nullable().default(null),
});
export type HubEntry = z.infer<typeof HubEntry>;

const ConfigFile = z.object({
  current: z.string().nullable().default(null),
  hubs: z.record(z.string(), HubEntry).default({}),
});
type ConfigFile = z.infer<typeof ConfigFile>;

/** ETag last pulled or pushed on this device, per hub and blob. */
const SyncState = z.record(z.string(), z.record(z.string(), z.string()));

/** Writes a file readable by its owner only, atomically (temp file + rename). */
export function writePrivateFile(path: string, content: string | Buffer): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function readJson<T>(path: string, schema: z.ZodType<T>, fallback: unknown): T {
  if (!existsSync(path)) return schema.parse(fallback);
  try {
    return schema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (err) {
    throw new CliError(`${path}: unreadable (${(err as Error).message.split('\n')[0]})`);
  }
}

/** `WSH_CONFIG_DIR` (default `~/.config/wsh`): hubs, device id, device key. No tokens. */
export class CliConfig {
  readonly dir: string;

  constructor(dir = clientEnv().WSH_CONFIG_DIR || join(homedir(), '.config', 'wsh')) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  read(): ConfigFile {
    return readJson(this.path('config.json'), ConfigFile, {});
  }

  write(config: ConfigFile): void {
    writePrivateFile(this.path('config.json'), `${JSON.stringify(config, null, 2)}\n`);
  }

  /** This device's id: generated once; `WSH_DEVICE_ID` overrides it. */
  deviceId(): string {
    const forced = clientEnv().WSH_DEVICE_ID;
    if (forced) return forced;
    const file = this.path('device-id');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    const id = `dev-${randomBytes(6).toString('hex')}`;
    writePrivateFile(file, `${id}\n`);
    return id;
  }

  syncEtag(hub: string, name: string): string | undefined {
    return readJson(this.path('sync-state.json'), SyncState, {})[hub]?.[name];
  }

  setSyncEtag(hub: string, name: string, etag: string): void {
    const state = readJson(this.path('sync-state.json'), SyncState, {});
    state[hub] = { ...state[hub], [name]: etag };
    writePrivateFile(this.path('sync-state.json'), `${JSON.stringify(state, null, 2)}\n`);
  }
}
