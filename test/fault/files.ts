import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { expect } from 'vitest';
import { type KeyPair, runProgram, scpArgs } from '../../vm-agent/test/helpers.js';

export const MB = 1024 * 1024;

/** Streams random bytes to a file (never the whole file in memory) and returns its sha256. */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += MB) {
    const chunk = randomBytes(Math.min(MB, size - written));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return hash.digest('hex');
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

/** Copies `from` to `to` with the stock `scp` to `target`; it must print nothing and exit 0. */
export async function scpQuietly(
  target: { port: number; knownHosts: string },
  key: KeyPair,
  from: string,
  to: string,
): Promise<void> {
  const copy = await runProgram('scp', [...scpArgs(target, key), from, to]);
  expect(copy.stderr).toBe('');
  expect(copy.code).toBe(0);
}
