import { HubError } from '@workspace-hub/core';
import type { HubDeps } from '../deps.js';
import { isCheckedByCloudRun } from './cloud-run.js';
import { GOOGLE_ISSUERS, verifyGoogleJwt } from './google-jwt.js';

/**
 * Verifies a Google-signed ID token minted for this hub (audience HUB_URL), as
 * agents and the Scheduler present them. A token Cloud Run has already checked
 * carries no signature any more, so it is refused with `whenStripped`: what the
 * caller must change for its token to reach the hub whole.
 */
export async function verifyHubToken(
  deps: Pick<HubDeps, 'config' | 'googleCerts'>,
  token: string,
  whenStripped: string,
): ReturnType<typeof verifyGoogleJwt> {
  if (isCheckedByCloudRun(token)) throw new HubError('unauthenticated', whenStripped);
  if (!deps.config.HUB_URL)
    throw new HubError('unauthenticated', 'identity tokens need HUB_URL set on the hub');
  return verifyGoogleJwt(token, {
    audience: deps.config.HUB_URL,
    issuers: GOOGLE_ISSUERS,
    certs: deps.googleCerts,
  });
}
