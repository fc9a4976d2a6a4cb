import ssh2, { type AuthContext } from 'ssh2';
import type { AuthorizedKeys } from './authorized-keys.js';
import { fingerprintOf } from './host-key.js';
import { audit, log } from './log.js';

/**
 * Public-key authentication of one SSH connection: the key must be authorized
 * (the hub's list or the local file) and its signature must verify. Every
 * other method is refused. `onAccepted` gets the key's device id.
 */
export function authenticate(
  ctx: AuthContext,
  keys: AuthorizedKeys,
  remote: string,
  onAccepted: (deviceId: string) => void,
): void {
  const user = ctx.username;
  if (ctx.method !== 'publickey') {
    if (ctx.method !== 'none')
      audit('auth', { result: 'refused', method: ctx.method, user, remote });
    ctx.reject(['publickey']);
    return;
  }
  const { key: offered, signature, blob: signed, hashAlgo } = ctx;
  const fingerprint = fingerprintOf(offered.data);
  keys
    .find(offered.data)
    .then((key) => {
      if (!key) {
        audit('auth', { result: 'refused', method: 'publickey', user, fingerprint, remote });
        return ctx.reject(['publickey']);
      }
      // Without a signature the client only asks whether the key would do.
      if (!signature) return ctx.accept();
      const parsed = ssh2.utils.parseKey(`${offered.algo} ${offered.data.toString('base64')}`);
      const verified =
        !(parsed instanceof Error) &&
        signed !== undefined &&
        parsed.verify(signed, signature, hashAlgo);
      audit('auth', {
        result: verified ? 'accepted' : 'refused',
        method: 'publickey',
        user,
        fingerprint,
        device_id: key.deviceId,
        key_source: key.source,
        remote,
      });
      if (!verified) return ctx.reject(['publickey']);
      onAccepted(key.deviceId);
      ctx.accept();
    })
    .catch((err) => {
      log('ERROR', 'key lookup failed', { error: (err as Error).message });
      ctx.reject(['publickey']);
    });
}
