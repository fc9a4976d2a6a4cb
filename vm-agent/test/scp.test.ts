import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type KeyPair,
  runProgram,
  scpArgs,
  startAgentForLaptop,
  type TestAgent,
} from './helpers.js';

// OpenSSH 9's `scp` speaks SFTP by default: it opens uploads write|create
// (no truncate), checks the channel's exit status, and downloads with up to 64
// reads in flight, writing in place and cutting the file at the last
// contiguous reply, so a handle's replies sent out of order lose its tail.
// How often replies came out of order depended on thread-pool timing: before
// the fix a single 1 MiB download was cut short 9 times in 10, 64 KiB never;
// four 2 MiB downloads (about a second in all) make a pass by luck unlikely.
const SIZE = 2 * 1024 * 1024;
const DOWNLOADS = 4;

let agent: TestAgent;
let laptop: KeyPair;
let local: string;

beforeAll(async () => {
  ({ agent, laptop, local } = await startAgentForLaptop('vm-agent-scp-'));
});

afterAll(() => agent?.close());

/** The stock `scp` (SFTP mode, its default since OpenSSH 9.0). */
function scp(from: string, to: string) {
  return runProgram('scp', [...scpArgs(agent, laptop), from, to]);
}

const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

describe('scp (SFTP protocol)', () => {
  it('uploads a file, then downloads copies of it, with identical hashes', async () => {
    const original = randomBytes(SIZE);
    writeFileSync(join(local, 'up.bin'), original);

    const up = await scp(join(local, 'up.bin'), 'dev@127.0.0.1:up.bin');
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(sha256(readFileSync(join(agent.home, 'up.bin')))).toBe(sha256(original));

    mkdirSync(join(agent.home, 'copies'));
    for (let i = 0; i < DOWNLOADS; i++)
      copyFileSync(join(agent.home, 'up.bin'), join(agent.home, 'copies', `${i}.bin`));
    mkdirSync(join(local, 'down'));
    const down = await scp('dev@127.0.0.1:copies/*.bin', join(local, 'down'));
    expect(down.stderr).toBe('');
    expect(down.code).toBe(0);
    for (let i = 0; i < DOWNLOADS; i++) {
      const got = readFileSync(join(local, 'down', `${i}.bin`));
      expect({ file: i, size: got.length, sha256: sha256(got) }).toEqual({
        file: i,
        size: SIZE,
        sha256: sha256(original),
      });
    }
  });

  it('overwrites a longer file and leaves exactly the new content', async () => {
    writeFileSync(join(agent.home, 'notes.txt'), 'an older, much longer version of the notes\n');
    writeFileSync(join(local, 'notes.txt'), 'new notes\n');
    const up = await scp(join(local, 'notes.txt'), 'dev@127.0.0.1:notes.txt');
    expect(up.code).toBe(0);
    expect(readFileSync(join(agent.home, 'notes.txt'), 'utf8')).toBe('new notes\n');
  });

  it('refuses to write outside the home', async () => {
    writeFileSync(join(local, 'planted'), 'x');
    const up = await scp(join(local, 'planted'), 'dev@127.0.0.1:/tmp/planted-by-scp');
    expect(up.code).not.toBe(0);
    const down = await scp('dev@127.0.0.1:/etc/passwd', join(local, 'passwd'));
    expect(down.code).not.toBe(0);
  });
});
