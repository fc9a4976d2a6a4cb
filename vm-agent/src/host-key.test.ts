import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateHostKey } from './host-key.js';

const dir = mkdtempSync(join(tmpdir(), 'host-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadOrCreateHostKey', () => {
  it('makes a host key every new home can load again, with the same fingerprint', () => {
    // ssh2's generator writes an unparsable key about once in 256: 2000 fresh homes would
    // meet it almost surely (1 - (255/256)^2000 > 99.9 %) if the agent kept such a key.
    for (let home = 0; home < 2000; home++) {
      const file = join(dir, `home-${home}`, 'ssh_host_ed25519_key');
      const created = loadOrCreateHostKey(file);
      const reloaded = loadOrCreateHostKey(file);
      expect(reloaded.fingerprint).toBe(created.fingerprint);
      expect(reloaded.publicKey).toMatch(/^ssh-ed25519 AAAA/);
    }
  });
});
