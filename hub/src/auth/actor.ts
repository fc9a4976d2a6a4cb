import type { Actor } from '@workspace-hub/core';
import type { Identity } from './identity.js';

/** The signed-in caller as the author of a change core makes (`deviceId` when the request names one). */
export function actorOf(identity: Identity, deviceId?: string): Actor {
  return {
    kind: 'user',
    sub: identity.sub,
    email: identity.email,
    admin: identity.admin,
    ...(deviceId ? { device_id: deviceId } : {}),
  };
}
