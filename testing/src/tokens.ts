import { createSign, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';

/** A signing key of our own, standing in for Google's (or IAP's) so tests sign real JWTs. */
export interface TestSigner {
  kid: string;
  alg: 'RS256' | 'ES256';
  /** `{kid: PEM}`: what a verifier's cert source returns. */
  certs: Record<string, string>;
  sign(claims: Record<string, unknown>, opts?: { kid?: string }): string;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function makeSigner(alg: 'RS256' | 'ES256', privateKey: KeyObject, publicPem: string): TestSigner {
  const kid = randomBytes(8).toString('hex');
  return {
    kid,
    alg,
    certs: { [kid]: publicPem },
    sign(claims, opts = {}) {
      const input = `${b64({ alg, kid: opts.kid ?? kid, typ: 'JWT' })}.${b64(claims)}`;
      const sig = createSign('SHA256')
        .update(input)
        .sign(alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey);
      return `${input}.${sig.toString('base64url')}`;
    },
  };
}

/** An RS256 signer, like Google's ID-token keys. */
export function rsaSigner(): TestSigner {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return makeSigner(
    'RS256',
    privateKey,
    publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
}

/** An ES256 signer, like IAP's keys. */
export function ecSigner(): TestSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return makeSigner(
    'ES256',
    privateKey,
    publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
}

/** Standard claims for a token valid now for `aud`. */
export function googleClaims(aud: string, extra: Record<string, unknown> = {}, lifetimeS = 3600) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'https://accounts.google.com', aud, iat: now - 10, exp: now + lifetimeS, ...extra };
}
