import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { HubClient } from './hub-client.js';
import { log } from './log.js';

export interface AuthorizedKey {
  algo: string;
  blob: Buffer;
  /** Device id the key belongs to (hub: the key's name; local file: its comment). */
  deviceId: string;
  owner: string | null;
  source: 'hub' | 'file';
}

const CACHE_MS = 30_000;
/** A miss refreshes from the hub at most this often, so a wrong key cannot hammer it. */
const MISS_REFRESH_MS = 2_000;

function parseLine(line: string): { algo: string; blob: Buffer; comment: string } | null {
  const trimmed = line.trim();
  if (!trimmed || trimmed.startsWith('#')) return null;
  // authorized_keys lines may start with options; the key starts at its type.
  const fields = trimmed.split(/\s+/);
  const at = fields.findIndex((f) => /^(ssh-|ecdsa-|sk-)/.test(f));
  if (at < 0 || !fields[at + 1]) return null;
  const parsed = ssh2.utils.parseKey(`${fields[at]} ${fields[at + 1]}`);
  if (parsed instanceof Error) return null;
  return {
    algo: parsed.type,
    blob: parsed.getPublicSSH(),
    comment: fields.slice(at + 2).join(' '),
  };
}

/**
 * The keys allowed to log in: the hub's list (cached briefly, refreshed on a
 * miss, so a key added on another device works at once) plus a local file.
 */
export class AuthorizedKeys {
  private hubKeys: AuthorizedKey[] = [];
  private hubFetchedAt = 0;
  private inflight: Promise<void> | null = null;

  constructor(
    private readonly hub: HubClient | null,
    private readonly file: string | null,
  ) {}

  /** The entry for this public key blob (which names its own type), or null. */
  async find(blob: Buffer): Promise<AuthorizedKey | null> {
    const match = (keys: AuthorizedKey[]) => keys.find((k) => k.blob.equals(blob)) ?? null;
    const fromFile = match(await this.fileKeys());
    if (fromFile) return fromFile;
    if (!this.hub) return null;
    if (Date.now() - this.hubFetchedAt > CACHE_MS) await this.refresh();
    const cached = match(this.hubKeys);
    if (cached || Date.now() - this.hubFetchedAt <= MISS_REFRESH_MS) return cached;
    await this.refresh();
    return match(this.hubKeys);
  }

  private refresh(): Promise<void> {
    if (!this.hub) return Promise.resolve();
    this.inflight ??= (async () => {
      try {
        const entries = await this.hub?.authorizedKeys();
        if (!entries) return;
        const keys: AuthorizedKey[] = [];
        for (const e of entries) {
          const parsed = parseLine(e.public_key);
          if (parsed)
            keys.push({
              algo: parsed.algo,
              blob: parsed.blob,
              deviceId: e.name,
              owner: e.owner ?? null,
              source: 'hub',
            });
        }
        this.hubKeys = keys;
        this.hubFetchedAt = Date.now();
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  private async fileKeys(): Promise<AuthorizedKey[]> {
    if (!this.file) return [];
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      log('WARNING', 'cannot read AGENT_AUTHORIZED_KEYS_FILE', { error: (err as Error).message });
      return [];
    }
    const keys: AuthorizedKey[] = [];
    for (const line of text.split('\n')) {
      const parsed = parseLine(line);
      if (parsed)
        keys.push({
          algo: parsed.algo,
          blob: parsed.blob,
          deviceId: parsed.comment || 'local',
          owner: null,
          source: 'file',
        });
    }
    return keys;
  }
}
