import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateEd25519Key } from '@workspace-hub/ssh-keys';
import ssh2 from 'ssh2';

export interface HostKey {
  privateKey: string;
  /** `ssh-ed25519 AAAA…`, for known_hosts and the hub. */
  publicKey: string;
  /** OpenSSH style `SHA256:…` (unpadded base64). */
  fingerprint: string;
}

export function fingerprintOf(publicBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Loads the host key from the home disk, generating it on first start, so the
 * fingerprint clients pinned survives restarts and resumes.
 */
export function loadOrCreateHostKey(file: string): HostKey {
  let privateKey: string;
  try {
    privateKey = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // Always a key ssh2 parses: kept on the home disk, an unparsable one (ssh2's generator
    // writes one about once in 256) would stop the agent on every boot of that workspace.
    privateKey = generateEd25519Key().privateKey;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, privateKey, { mode: 0o600, flag: 'wx' });
  }
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) throw new Error(`AGENT_HOST_KEY_FILE: ${parsed.message}`);
  const blob = parsed.getPublicSSH();
  return {
    privateKey,
    publicKey: `${parsed.type} ${blob.toString('base64')}`,
    fingerprint: fingerprintOf(blob),
  };
}
