import { generateEd25519Key } from '@workspace-hub/ssh-keys';

/** A fresh ed25519 key pair for one hub → agent SSH connection; the private half stays in memory. */
export interface ConnectionKey {
  /** OpenSSH private key, for ssh2's `privateKey`. */
  privateKey: string;
  /** `ssh-ed25519 AAAA…`, what the agent is told to accept. */
  publicKey: string;
}

export function mintConnectionKey(): ConnectionKey {
  const { privateKey, publicKey } = generateEd25519Key();
  return { privateKey, publicKey };
}
