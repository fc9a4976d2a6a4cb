import type { Context } from 'hono';

/** Who is calling, as a verifier established it. */
export interface Caller {
  sub: string;
  email: string;
}

export interface Identity extends Caller {
  admin: boolean;
}

/** Reads a request's credentials; throws `HubError` unauthenticated/permission_denied. */
export type Verifier = (c: Context) => Promise<Caller>;

/** PEM or JWK public keys by key id, as google-auth-library takes them. */
export type CertSource = () => Promise<Record<string, string>>;

export function bearerToken(header: string | undefined): string | undefined {
  const m = header?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1];
}
