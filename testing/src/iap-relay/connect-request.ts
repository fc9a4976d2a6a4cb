import { RELAY_SUBPROTOCOL } from './frames.js';
import type { IapRelayRequest } from './relay.js';

/**
 * A new session's upgrade as gcloud sends it (`gcloud.test.ts` checks gcloud does), the
 * reference our client's is held to (`client/src/iap-tunnel/tunnel.test.ts`): for
 * `toMatchObject` against what the relay recorded.
 */
export function connectAsGcloud(target: {
  project: string;
  zone: string;
  instance: string;
  port: number;
}): Omit<IapRelayRequest, 'userAgent'> {
  return {
    path: '/v4/connect',
    origin: 'bot:iap-tunneler',
    subprotocols: [RELAY_SUBPROTOCOL],
    outcome: 'accepted',
    query: {
      project: target.project,
      zone: target.zone,
      instance: target.instance,
      interface: 'nic0',
      port: String(target.port),
      newWebsocket: 'True',
    },
  };
}
