import ssh2 from 'ssh2';

/** An ed25519 key pair as OpenSSH writes it, and its public half as SSH puts it on the wire. */
export interface Ed25519Key {
  /** OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`), for ssh2's `privateKey`. */
  privateKey: string;
  /** `ssh-ed25519 AAAA…`, for authorized_keys and known_hosts. */
  publicKey: string;
  /** The public key's SSH wire encoding (what a fingerprint hashes). */
  publicBlob: Buffer;
}

/**
 * A fresh ed25519 key pair that ssh2 (and OpenSSH) can parse. ssh2 1.17's generator drops a
 * leading zero byte of the public key (about 1 key in 256) and writes a key nothing can parse:
 * such a pair is thrown away and another one made.
 */
export function generateEd25519Key(): Ed25519Key {
  for (let attempt = 0; ; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const parsed = ssh2.utils.parseKey(pair.private);
    if (!(parsed instanceof Error)) {
      const publicBlob = parsed.getPublicSSH();
      return {
        privateKey: pair.private,
        publicKey: `${parsed.type} ${publicBlob.toString('base64')}`,
        publicBlob,
      };
    }
    if (attempt >= 16) throw parsed;
  }
}
