import { createHash } from 'node:crypto';
import { HubError } from '../errors.js';
import { keyBlobProblem } from './ssh-key-blob.js';

const KEY_TYPES = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

export interface ParsedPublicKey {
  type: string;
  /** `type base64` without the comment: what authorized_keys compares. */
  canonical: string;
  /** OpenSSH's `SHA256:…` fingerprint. */
  fingerprint: string;
  comment: string;
}

/** Parses one OpenSSH public key line; anything else is a 400 naming `field`. */
export function parsePublicKey(line: string, field = 'public_key'): ParsedPublicKey {
  const bad = (why: string) => new HubError('invalid_argument', `${field}: ${why}`, { field });
  // A key read from a .pub file ends with a newline; a second line is another key.
  const text = line.trim();
  const parts = text.split(/\s+/);
  if (parts.length < 2 || text.includes('\n'))
    throw bad('expected one line "TYPE BASE64 [comment]"');
  const [type, b64, ...rest] = parts as [string, string, ...string[]];
  if (!KEY_TYPES.has(type)) throw bad(`unsupported key type ${type.slice(0, 40)}`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw bad('key data is not base64');
  const blob = Buffer.from(b64, 'base64');
  const problem = keyBlobProblem(type, blob);
  if (problem) throw bad(problem);
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { type, canonical: `${type} ${b64}`, fingerprint, comment: rest.join(' ') };
}
