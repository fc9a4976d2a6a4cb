import { HubError } from '@workspace-hub/core';
import type { Context } from 'hono';
import { bearerToken } from './identity.js';

/** What Cloud Run puts in place of the signature of a token its invoker check accepted. */
export const SIGNATURE_REMOVED = 'SIGNATURE_REMOVED_BY_GOOGLE';

/** Whether `token` is a JWT as Cloud Run forwards one it has checked. */
export function isCheckedByCloudRun(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && parts[2] === SIGNATURE_REMOVED;
}

/**
 * The claims of the token Cloud Run's invoker check accepted. Cloud Run checks
 * `X-Serverless-Authorization` when present (and then passes `Authorization`
 * on untouched, so that one proves nothing), else `Authorization`; either way
 * it forwards the checked token with its signature replaced. A token in any
 * other form did not pass the check, so its claims are not believed.
 */
export function claimsCheckedByCloudRun(c: Context): Record<string, unknown> {
  const serverless = c.req.header('x-serverless-authorization');
  const token = bearerToken(serverless ?? c.req.header('authorization'));
  if (!token)
    throw new HubError('unauthenticated', 'missing Authorization: Bearer <Google ID token>');
  if (!isCheckedByCloudRun(token))
    throw new HubError(
      'unauthenticated',
      'this token was not checked by Cloud Run (its signature is intact): HUB_AUTH=cloud-run-iam needs the service deployed with IAM invoker checks',
    );
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
    if (typeof claims === 'object' && claims !== null) return claims;
  } catch {
    // answered below
  }
  throw new HubError('unauthenticated', 'the forwarded token has no readable claims');
}
