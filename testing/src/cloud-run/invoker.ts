import { OAuth2Client } from 'google-auth-library';

/** What Cloud Run puts in place of the signature of the token it checked. */
export const SIGNATURE_REMOVED = 'SIGNATURE_REMOVED_BY_GOOGLE';

/**
 * The audience of `gcloud auth print-identity-token` for a user account (gcloud's
 * OAuth client id). Cloud Run's invoker check accepts it for any service
 * ("Authenticate developers"), which is why such tokens are replayable.
 */
export const GCLOUD_CLIENT_ID = '32555940559.apps.googleusercontent.com';

const ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];
const client = new OAuth2Client();

/** The outcome of the invoker check, as Cloud Run answers it. */
export type InvokerDecision =
  /** `principal` null: a public service, whose requests Cloud Run passes on unchecked and untouched. */
  { allow: true; principal: string | null } | { allow: false; status: 401 | 403; reason: string };

export interface InvokerPolicy {
  /** Members of roles/run.invoker: `user:`, `serviceAccount:`, `domain:`, `allUsers`, `allAuthenticatedUsers`. */
  invokers: readonly string[];
  /** Audiences Cloud Run accepts: the service's run.app URLs and its custom audiences. */
  audiences: readonly string[];
  /** Google's ID-token keys, `{kid: PEM}` (a test signer's certs). */
  certs: () => Promise<Record<string, string>>;
}

function principalOf(claims: { email?: string }): string | null {
  const email = claims.email?.toLowerCase();
  if (!email) return null;
  return email.endsWith('.gserviceaccount.com') ? `serviceAccount:${email}` : `user:${email}`;
}

function holdsInvoker(policy: InvokerPolicy, principal: string): boolean {
  const email = principal.slice(principal.indexOf(':') + 1);
  const domain = email.split('@')[1] ?? '';
  return policy.invokers.some((member) => {
    const [kind, who = ''] = member.split(/:(.*)/);
    if (kind === 'allAuthenticatedUsers') return true;
    if (kind === 'domain') return who.toLowerCase() === domain;
    return `${kind}:${who.toLowerCase()}` === principal;
  });
}

/**
 * Cloud Run's IAM invoker check of one bearer token: Google's signature, an
 * accepted audience, expiry; then roles/run.invoker of the token's principal.
 * A missing token is 403 (IAM denies the anonymous caller); a token that does
 * not verify is 401; a verified caller without the role is 403.
 */
export async function checkInvoker(
  policy: InvokerPolicy,
  token: string | undefined,
): Promise<InvokerDecision> {
  if (policy.invokers.includes('allUsers')) return { allow: true, principal: null };
  if (!token) return { allow: false, status: 403, reason: 'no credentials' };
  const audiences = [
    ...policy.audiences.flatMap((a) => [a, `${a.replace(/\/$/, '')}/`]),
    GCLOUD_CLIENT_ID,
  ];
  let claims: { email?: string };
  try {
    const ticket = await client.verifySignedJwtWithCertsAsync(
      token,
      await policy.certs(),
      audiences,
      ISSUERS,
    );
    claims = ticket.getPayload() ?? {};
  } catch (err) {
    return { allow: false, status: 401, reason: `invalid token: ${(err as Error).message}` };
  }
  const principal = principalOf(claims);
  if (!principal || !holdsInvoker(policy, principal))
    return { allow: false, status: 403, reason: `${principal ?? 'caller'} lacks run.invoker` };
  return { allow: true, principal };
}

/** The token as Cloud Run forwards it after its check: the signature replaced. */
export function stripSignature(token: string): string {
  const [header = '', payload = ''] = token.split('.');
  return `${header}.${payload}.${SIGNATURE_REMOVED}`;
}
