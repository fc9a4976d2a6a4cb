import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateEd25519Key } from './index.js';

describe('generateEd25519Key', () => {
  it('makes only keys ssh2 can parse (its generator now and then writes one it cannot)', () => {
    // About 1 in 256 of ssh2's keys is unparsable: 1000 keys meet one almost surely (98 %).
    const keys = Array.from({ length: 1000 }, generateEd25519Key);
    const unparsable = keys.filter(
      (k) =>
        ssh2.utils.parseKey(k.privateKey) instanceof Error ||
        ssh2.utils.parseKey(k.publicKey) instanceof Error,
    );
    expect(unparsable).toEqual([]);
    expect(keys[0]!.publicKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(new Set(keys.map((k) => k.publicKey)).size).toBe(keys.length);
  });
});
