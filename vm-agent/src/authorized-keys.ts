import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import { FreshList } from './fresh-list.js';
import type { AuthorizedKeyEntry, HubClient } from './hub-client.js';
import { log } from './log.js';

export interface AuthorizedKey {
  algo: string;
  blob: Buffer;
  /** Device id the key belongs to (hub: the key's name; local file: its comment). */
  deviceId: string;
  owner: string | null;
  source: 'hub' | 'file';
}

/**
 * A known key is accepted on a list the hub served at most this long ago, so a
 * key deleted at the hub stops logging in within this bound (README).
 */
export const REVOCATION_BOUND_MS = 5_000;
/** However many unknown keys are offered, the hub is asked at most once per this. */
const MIN_FETCH_INTERVAL_MS = 1_000;
/** After the hub failed to answer, known keys are served without asking it for this long. */
const HUB_FAILURE_BACKOFF_MS = 10_000;

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
 * The keys allowed to log in: the hub's list plus a local file. An unknown key
 * waits for a list the hub serves after it arrived (so a key registered a
 * moment ago on another device works at once); a known key is accepted on a
 * list at most REVOCATION_BOUND_MS old. Hub calls are shared by everyone
 * waiting and spaced MIN_FETCH_INTERVAL_MS apart; while the hub cannot be
 * reached, the last list it served keeps working.
 */
export class AuthorizedKeys {
  private readonly hubKeys: FreshList<AuthorizedKey[]> | null;

  constructor(
    hub: HubClient | null,
    private readonly file: string | null,
  ) {
    this.hubKeys = hub
      ? new FreshList(async () => toAuthorizedKeys(await hub.authorizedKeys()), {
          minIntervalMs: MIN_FETCH_INTERVAL_MS,
          failureBackoffMs: HUB_FAILURE_BACKOFF_MS,
        })
      : null;
  }

  /** The entry for this public key blob (which names its own type), or null. */
  async find(blob: Buffer): Promise<AuthorizedKey | null> {
    const match = (keys: AuthorizedKey[] | null | undefined) =>
      keys?.find((k) => k.blob.equals(blob)) ?? null;
    const fromFile = match(await this.fileKeys());
    if (fromFile || !this.hubKeys) return fromFile;
    const arrived = this.hubKeys.now();
    const held = this.hubKeys.held();
    if (held && arrived - held.asOf <= REVOCATION_BOUND_MS) {
      const known = match(held.value);
      if (known) return known;
    }
    return match(await this.hubKeys.since(arrived));
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

function toAuthorizedKeys(entries: AuthorizedKeyEntry[] | null): AuthorizedKey[] | null {
  if (!entries) return null;
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
  return keys;
}
