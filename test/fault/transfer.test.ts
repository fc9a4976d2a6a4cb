import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type KeyPair,
  runProgram,
  scpArgs,
  startAgentForLaptop,
  type TestAgent,
} from '../../vm-agent/test/helpers.js';
import { MB, scpQuietly, sha256File, writeRandomFile } from './files.js';

/**
 * Large transfers with the stock OpenSSH `scp` and `sftp` binaries, both ways,
 * compared by sha256 on both ends. FAULT_TRANSFER_MB sizes them (default 100).
 */
const SIZE = Number(process.env.FAULT_TRANSFER_MB ?? 100) * MB;
// About 10 s each on an idle 2-core machine; generous for a loaded one.
const TIMEOUT = 120_000;

let agent: TestAgent;
let laptop: KeyPair;
let local: string;
let original: string;

beforeAll(async () => {
  ({ agent, laptop, local } = await startAgentForLaptop('fault-transfer-'));
  original = await writeRandomFile(join(local, 'big.bin'), SIZE);
}, TIMEOUT);

afterAll(() => agent?.close());

describe(`stock OpenSSH transfers of ${SIZE / MB} MB`, () => {
  it(
    'scp uploads and downloads the file with identical sha256 on both ends',
    async () => {
      await scpQuietly(agent, laptop, join(local, 'big.bin'), 'dev@127.0.0.1:scp.bin');
      expect(await sha256File(join(agent.home, 'scp.bin'))).toBe(original);

      await scpQuietly(agent, laptop, 'dev@127.0.0.1:scp.bin', join(local, 'scp-back.bin'));
      expect(await sha256File(join(local, 'scp-back.bin'))).toBe(original);
    },
    TIMEOUT,
  );

  it(
    'sftp puts and gets the file with identical sha256 on both ends',
    async () => {
      const batch = `put ${join(local, 'big.bin')} sftp.bin\nget sftp.bin ${join(local, 'sftp-back.bin')}\n`;
      const result = await runProgram(
        'sftp',
        [...scpArgs(agent, laptop), '-b', '-', 'dev@127.0.0.1'],
        batch,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(await sha256File(join(agent.home, 'sftp.bin'))).toBe(original);
      expect(await sha256File(join(local, 'sftp-back.bin'))).toBe(original);
    },
    TIMEOUT,
  );
});
