import { HubError } from '@workspace-hub/core';
import { claimsCheckedByCloudRun } from './cloud-run.js';
import { GOOGLE_ISSUERS, IAP_ISSUER, verifyGoogleJwt } from './google-jwt.js';
import { bearerToken, type Caller, type CertSource, type Verifier } from './identity.js';

function required<T>(v: T | undefined, what: string): T {
  if (v === undefined || v === '') throw new HubError('unauthenticated', `missing ${what}`);
  return v;
}

function callerOf(payload: { sub?: string; email?: string; email_verified?: boolean }): Caller {
  if (!payload.sub || !payload.email)
    throw new HubError('unauthenticated', 'token has no sub/email claims');
  if (payload.email_verified === false)
    throw new HubError('permission_denied', 'email is not verified');
  return { sub: payload.sub, email: payload.email.toLowerCase() };
}

const MAX_EMAIL_LENGTH = 254;

/** `Authorization: Bearer dev:<email>`, for local mode only (config refuses it on Cloud Run). */
export function devVerifier(): Verifier {
  return async (c) => {
    const token = required(
      bearerToken(c.req.header('authorization')),
      'Authorization: Bearer dev:<email>',
    );
    const m = token.match(/^dev:([^@\s]+@[^@\s]+)$/);
    if (!m) throw new HubError('unauthenticated', 'dev tokens look like dev:you@example.com');
    const email = m[1]!.toLowerCase();
    // No mailbox is longer (RFC 5321), and Firestore cannot query by a value over 1500 bytes.
    if (email.length > MAX_EMAIL_LENGTH)
      throw new HubError(
        'invalid_argument',
        `authorization: a dev email has at most ${MAX_EMAIL_LENGTH} characters`,
        { field: 'authorization' },
      );
    return { sub: `dev:${email}`, email };
  };
}

/** A Google ID token, verified against Google's keys and the hub's audience. */
export function idTokenVerifier(opts: { audience: string; certs: CertSource }): Verifier {
  return async (c) => {
    const token = required(
      bearerToken(c.req.header('authorization')),
      'Authorization: Bearer <Google ID token>',
    );
    return callerOf(
      await verifyGoogleJwt(token, {
        audience: opts.audience,
        issuers: GOOGLE_ISSUERS,
        certs: opts.certs,
      }),
    );
  };
}

/** IAP in front of the hub: `X-Goog-IAP-JWT-Assertion`, ES256, issuer cloud.google.com/iap. */
export function iapVerifier(opts: { audience: string; certs: CertSource }): Verifier {
  return async (c) => {
    const token = required(
      c.req.header('x-goog-iap-jwt-assertion'),
      'X-Goog-IAP-JWT-Assertion (is IAP in front of the hub?)',
    );
    return callerOf(
      await verifyGoogleJwt(token, {
        audience: opts.audience,
        issuers: [IAP_ISSUER],
        certs: opts.certs,
      }),
    );
  };
}

/**
 * Cloud Run has checked run.invoker and the token's signature, audience and
 * expiry, and forwards it with the signature removed: only its claims are read.
 */
export function cloudRunIamVerifier(): Verifier {
  return async (c) => callerOf(claimsCheckedByCloudRun(c) as { sub?: string; email?: string });
}

/**
 * Who may use the hub at all, beyond a valid token. Admins always may. Service
 * accounts (workspace VMs, the Scheduler: they may invoke the Cloud Run service)
 * are people only when listed by name.
 */
export function checkAllowed(
  caller: Caller,
  policy: { admins: readonly string[]; domains: readonly string[]; users: readonly string[] },
): boolean {
  if (policy.admins.includes(caller.email) || policy.users.includes(caller.email)) return true;
  if (caller.email.endsWith('.gserviceaccount.com')) return false;
  if (policy.domains.length === 0 && policy.users.length === 0) return true;
  const domain = caller.email.split('@')[1] ?? '';
  return policy.domains.includes(domain);
}
