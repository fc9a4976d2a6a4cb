import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { mintConnectionKey } from './connection-key.js';

describe('connection keys', () => {
  it('are always keys the agent can parse (ssh2 now and then generates one it cannot)', () => {
    const keys = Array.from({ length: 1000 }, mintConnectionKey);
    const unparsable = keys.filter(
      (k) =>
        ssh2.utils.parseKey(k.privateKey) instanceof Error ||
        ssh2.utils.parseKey(k.publicKey) instanceof Error,
    );
    expect(unparsable).toEqual([]);
    expect(new Set(keys.map((k) => k.publicKey)).size).toBe(keys.length);
  });
});
