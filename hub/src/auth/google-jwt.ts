import { HubError } from '@workspace-hub/core';
import { OAuth2Client, type TokenPayload } from 'google-auth-library';
import type { CertSource } from './identity.js';

const client = new OAuth2Client();

export const GOOGLE_ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];
export const IAP_ISSUER = 'https://cloud.google.com/iap';

/** Google's ID-token signing keys (cached by google-auth-library). */
export const googleCerts: CertSource = async () =>
  (await client.getFederatedSignonCertsAsync()).certs as Record<string, string>;

/** IAP's ES256 keys. */
export const iapCerts: CertSource = async () =>
  (await client.getIapPublicKeysAsync()).pubkeys as Record<string, string>;

/**
 * Verifies signature, audience, issuer and expiry with google-auth-library.
 * Its messages are specific ("Token used too late", "Wrong recipient"): they
 * are passed on because they tell a user what to fix, and hold no secret.
 */
export async function verifyGoogleJwt(
  token: string,
  opts: { audience: string; issuers: string[]; certs: CertSource },
): Promise<TokenPayload> {
  let certs: Record<string, string>;
  try {
    certs = await opts.certs();
  } catch (err) {
    throw new HubError(
      'upstream_unavailable',
      `could not fetch token signing keys: ${String(err)}`,
    );
  }
  try {
    const ticket = await client.verifySignedJwtWithCertsAsync(
      token,
      certs,
      opts.audience,
      opts.issuers,
    );
    const payload = ticket.getPayload();
    if (!payload) throw new Error('token has no payload');
    return payload;
  } catch (err) {
    const msg =
      err instanceof Error ? err.message.split('\n')[0]!.replace(/:\s*\{.*$/, '') : 'invalid token';
    throw new HubError('unauthenticated', `invalid token: ${msg}`);
  }
}
