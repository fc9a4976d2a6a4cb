import ssh2 from 'ssh2';

/** A fresh ed25519 key pair for one hub → agent SSH connection; the private half stays in memory. */
export interface ConnectionKey {
  /** OpenSSH private key, for ssh2's `privateKey`. */
  privateKey: string;
  /** `ssh-ed25519 AAAA…`, what the agent is told to accept. */
  publicKey: string;
}

export function mintConnectionKey(): ConnectionKey {
  // ssh2 1.17's generator drops a leading zero byte of the public key (about 1 key in 256),
  // writing a key nothing can parse: such a pair is thrown away and another one made.
  for (let attempt = 0; ; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const parsed = ssh2.utils.parseKey(pair.private);
    if (!(parsed instanceof Error))
      return {
        privateKey: pair.private,
        publicKey: `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`,
      };
    if (attempt >= 16) throw parsed;
  }
}
