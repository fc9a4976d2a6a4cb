import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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

// ssh2 1.17's generator drops a leading zero byte of the public key (about 1 key in 256) and
// writes a key nothing can parse; kept on the home disk, such a key would stop the agent from
// starting on every boot of that workspace. Such a pair is thrown away and another one made.
function generateParsableEd25519(): { private: string } {
  for (let attempt = 0; ; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const parsed = ssh2.utils.parseKey(pair.private);
    if (!(parsed instanceof Error)) return pair;
    if (attempt >= 16) throw parsed;
  }
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
    const pair = generateParsableEd25519();
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, pair.private, { mode: 0o600, flag: 'wx' });
    privateKey = pair.private;
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
