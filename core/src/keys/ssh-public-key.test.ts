import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isHubError } from '../errors.js';
import { parsePublicKey } from './ssh-public-key.js';

const dir = mkdtempSync(join(tmpdir(), 'ssh-public-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A public key line as `ssh-keygen` writes it. */
function keygen(type: string, bits?: number): string {
  const file = join(dir, `${type}-${bits ?? 0}`);
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(bits ? ['-b', String(bits)] : []),
    '-N',
    '',
    '-C',
    'me@laptop',
    '-f',
    file,
  ]);
  return readFileSync(`${file}.pub`, 'utf8');
}

const blobOf = (line: string) => Buffer.from(line.split(' ')[1]!, 'base64');
const withBlob = (line: string, blob: Buffer) => `${line.split(' ')[0]} ${blob.toString('base64')}`;

function refusal(line: string): string {
  try {
    parsePublicKey(line);
  } catch (err) {
    if (isHubError(err, 'invalid_argument') && err.extra.field === 'public_key') return err.message;
    throw err;
  }
  throw new Error(`accepted: ${line}`);
}

const real = {
  ed25519: keygen('ed25519'),
  ecdsa256: keygen('ecdsa', 256),
  ecdsa384: keygen('ecdsa', 384),
  ecdsa521: keygen('ecdsa', 521),
  rsa2048: keygen('rsa', 2048),
};

describe('parsePublicKey', () => {
  it('accepts the keys ssh-keygen makes, with the fingerprint ssh-keygen prints', () => {
    for (const [name, line] of Object.entries(real)) {
      const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', '-'], { input: line })
        .toString()
        .split(' ')[1];
      expect(parsePublicKey(line).fingerprint, name).toBe(fingerprint);
    }
  });

  it('refuses a truncated key of every type, naming the field', () => {
    for (const [name, line] of Object.entries(real)) {
      const blob = blobOf(line);
      for (const cut of [1, 4, Math.floor(blob.length / 2)])
        expect(refusal(withBlob(line, blob.subarray(0, blob.length - cut))), name).toMatch(
          /^public_key: /,
        );
    }
  });

  it('refuses extra bytes after the key', () => {
    for (const [name, line] of Object.entries(real))
      expect(refusal(withBlob(line, Buffer.concat([blobOf(line), Buffer.alloc(4)]))), name).toMatch(
        /truncated or malformed/,
      );
  });

  it('refuses an ECDSA point that is not on its curve, and an RSA key under 2048 bits', () => {
    const blob = Buffer.from(blobOf(real.ecdsa256));
    blob[blob.length - 1]! ^= 1;
    expect(refusal(withBlob(real.ecdsa256, blob))).toMatch(/truncated or malformed/);
    expect(refusal(keygen('rsa', 1024))).toMatch(/at least 2048 bits/);
  });

  it('refuses a blob that names another type than its line', () => {
    expect(refusal(withBlob(real.ed25519, blobOf(real.ecdsa256)))).toMatch(
      /does not match its type/,
    );
  });
});
