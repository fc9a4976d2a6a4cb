import { clientEnv } from '../env.js';
/** Gives the bearer token for each request (called per request; providers cache). */
export type TokenProvider = () => Promise<string>;

/** Local hubs (`HUB_AUTH=dev`) take `dev:<email>` as the bearer token. */
export function devTokenProvider(email: string): TokenProvider {
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new Error(`dev email: not an email: ${email}`);
  return async () => `dev:${email}`;
}

const ID_TOKEN_REUSE_MS = 45 * 60_000;

/** `gcloud auth print-identity-token`: works for user accounts, which ADC cannot mint ID tokens for. */
async function gcloudIdToken(audience: string): Promise<string> {
  const { execFile } = await import('node:child_process');
  const run = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile('gcloud', args, { timeout: 30_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout.trim()),
      ),
    );
  // --audiences is only allowed for service accounts; a user's token is accepted by Cloud Run as is.
  return run(['auth', 'print-identity-token', `--audiences=${audience}`]).catch(() =>
    run(['auth', 'print-identity-token']),
  );
}

/**
 * A Google ID token whose audience is the hub URL: from Application Default
 * Credentials (a service account key, the metadata server, impersonation), else
 * from `gcloud auth print-identity-token` (user accounts). Kept in memory only.
 */
export function googleIdTokenProvider(audience: string): TokenProvider {
  let cached: { token: string; at: number } | undefined;
  const fromAdc = async (): Promise<string> => {
    // google-auth-library is heavy: load it only for real hubs.
    const { GoogleAuth } = await import('google-auth-library');
    const client = await new GoogleAuth().getIdTokenClient(audience);
    const value = (await client.getRequestHeaders(audience)).get('authorization');
    if (!value) throw new Error('no ID token');
    return value.replace(/^Bearer /i, '');
  };
  return async () => {
    if (cached && Date.now() - cached.at < ID_TOKEN_REUSE_MS) return cached.token;
    const token = await fromAdc().catch(() =>
      gcloudIdToken(audience).catch(() => {
        throw new Error(
          'no Google credentials for an ID token: run `gcloud auth login` (or set GOOGLE_APPLICATION_CREDENTIALS to a service account key)',
        );
      }),
    );
    cached = { token, at: Date.now() };
    return token;
  };
}

/**
 * A Google OAuth access token (for the IAP tunnel): from the file named by
 * `CLOUDSDK_AUTH_ACCESS_TOKEN_FILE` when set (as gcloud does), else from ADC.
 */
export function googleAccessTokenProvider(): TokenProvider {
  return async () => {
    const file = clientEnv().CLOUDSDK_AUTH_ACCESS_TOKEN_FILE;
    if (file) {
      const { readFile } = await import('node:fs/promises');
      return (await readFile(file, 'utf8')).trim();
    }
    const { GoogleAuth } = await import('google-auth-library');
    const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    const token = await auth.getAccessToken();
    if (!token) throw new Error('Google credentials gave no access token');
    return token;
  };
}
