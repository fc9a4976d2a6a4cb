import ssh2 from 'ssh2';

/**
 * ssh2's `hostVerifier` that accepts only the host key the agent reported at ready
 * (`workspace.agent.host_public_key`), as `wsh`'s known_hosts pins it for `ssh`.
 */
export function pinnedHostKey(hostPublicKey: string): (key: Buffer) => boolean {
  const parsed = ssh2.utils.parseKey(hostPublicKey);
  if (parsed instanceof Error) return () => false;
  const expected = parsed.getPublicSSH();
  return (key) => Buffer.isBuffer(key) && key.equals(expected);
}
