import { ecSigner, googleClaims, rsaSigner } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAllowed } from '../src/auth/verifiers.js';
import { loadConfig } from '../src/config.js';
import { HUB_URL, startTestHub, type TestHub } from './harness.js';

const google = rsaSigner();
const impostor = rsaSigner();
const iap = ecSigner();
const IAP_AUD = '/projects/123/global/backendServices/456';

describe('id-token identities', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub(
      {
        HUB_AUTH: 'id-token',
        HUB_ALLOWED_DOMAINS: 'example.com',
        HUB_ALLOWED_USERS: 'guest@partner.org',
      },
      { verifierCerts: async () => google.certs },
    );
  });
  afterAll(() => hub.close());

  const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const person = (email: string, extra = {}) =>
    googleClaims(HUB_URL, { sub: `sub-${email}`, email, email_verified: true, ...extra });

  it('accepts a valid Google ID token from an allowed domain or user', async () => {
    expect(
      (await hub.call('GET', '/workspaces', as(google.sign(person('ann@example.com'))))).status,
    ).toBe(200);
    expect(
      (await hub.call('GET', '/workspaces', as(google.sign(person('guest@partner.org'))))).status,
    ).toBe(200);
  });

  it('rejects a bad signature, a wrong audience and an expired token with 401', async () => {
    const cases = {
      'bad signature': impostor.sign(person('ann@example.com'), { kid: google.kid }),
      'wrong audience': google.sign({ ...person('ann@example.com'), aud: 'https://other.example' }),
      expired: google.sign({
        ...person('ann@example.com'),
        iat: 1_600_000_000,
        exp: 1_600_003_600,
      }),
      'not a JWT': 'abc.def',
    };
    for (const [what, token] of Object.entries(cases)) {
      const r = await hub.call('GET', '/workspaces', as(token));
      expect(r.status, what).toBe(401);
      expect(r.body.code, what).toBe('unauthenticated');
    }
    expect(
      (await hub.call('GET', '/workspaces', as(google.sign(person('ann@example.com'))))).status,
    ).toBe(200);
  });

  it('rejects a valid token from a domain that is not allowed with 403', async () => {
    const r = await hub.call('GET', '/workspaces', as(google.sign(person('eve@evil.com'))));
    expect(r.status).toBe(403);
    expect(r.body.detail).toContain('eve@evil.com');
    const unverified = await hub.call(
      'GET',
      '/workspaces',
      as(google.sign(person('ann@example.com', { email_verified: false }))),
    );
    expect(unverified.status).toBe(403);
  });

  it('refuses dev identities', async () => {
    expect((await hub.call('GET', '/workspaces', { as: 'ann@example.com' })).status).toBe(401);
  });

  it('never writes a token into the logs', async () => {
    const token = google.sign(person('ann@example.com'));
    const trace = '105445aa7843bc8bf206b12000100000';
    await hub.call('GET', '/workspaces', {
      headers: { ...as(token).headers, 'x-cloud-trace-context': `${trace}/1;o=1` },
    });
    expect(hub.logs.join('\n')).not.toContain(token.split('.')[2]);
    const line = hub.logs.map((l) => JSON.parse(l)).findLast((l) => l.httpRequest?.status === 200);
    expect(line).toMatchObject({
      severity: 'INFO',
      httpRequest: { requestMethod: 'GET', requestUrl: '/workspaces', status: 200 },
      'logging.googleapis.com/trace': `projects/${hub.deps.config.GOOGLE_CLOUD_PROJECT}/traces/${trace}`,
    });
  });
});

describe('IAP identities', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub(
      { HUB_AUTH: 'iap', HUB_IAP_AUDIENCE: IAP_AUD },
      { verifierCerts: async () => iap.certs },
    );
  });
  afterAll(() => hub.close());

  const assertion = (claims: Record<string, unknown>) => ({
    headers: { 'x-goog-iap-jwt-assertion': iap.sign(claims) },
  });
  const iapClaims = (extra = {}) => ({
    ...googleClaims(IAP_AUD, { sub: 'accounts.google.com:1', email: 'ann@example.com' }),
    iss: 'https://cloud.google.com/iap',
    ...extra,
  });

  it('accepts IAP’s signed header and rejects a wrong audience, issuer or expiry', async () => {
    expect((await hub.call('GET', '/workspaces', assertion(iapClaims()))).status).toBe(200);
    expect(
      (await hub.call('GET', '/workspaces', assertion(iapClaims({ aud: '/projects/9/x' })))).status,
    ).toBe(401);
    expect(
      (
        await hub.call(
          'GET',
          '/workspaces',
          assertion(iapClaims({ iss: 'https://accounts.google.com' })),
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await hub.call(
          'GET',
          '/workspaces',
          assertion(iapClaims({ exp: 1_600_000_000, iat: 1_599_999_000 })),
        )
      ).status,
    ).toBe(401);
    expect((await hub.call('GET', '/workspaces')).status).toBe(401);
  });
});

describe('Cloud Run IAM identities', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ HUB_AUTH: 'cloud-run-iam', HUB_ALLOWED_DOMAINS: 'example.com' });
  });
  afterAll(() => hub.close());

  it('reads the claims Cloud Run forwards (signature stripped) and applies the allow-list', async () => {
    const unsigned = (email: string) =>
      `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: `s-${email}`, email })).toString('base64url')}.`;
    expect(
      (
        await hub.call('GET', '/workspaces', {
          headers: { authorization: `Bearer ${unsigned('a@example.com')}` },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await hub.call('GET', '/workspaces', {
          headers: { authorization: `Bearer ${unsigned('a@evil.com')}` },
        })
      ).status,
    ).toBe(403);
  });
});

describe('allow-list', () => {
  const open = { admins: ['ops@acme.iam.gserviceaccount.com'], domains: [], users: [] };
  it('admits anyone a verifier vouched for when no list is set, but no service account', () => {
    expect(checkAllowed({ sub: '1', email: 'a@anything.org' }, open)).toBe(true);
    expect(
      checkAllowed({ sub: '2', email: 'workspace-hub-vm@acme.iam.gserviceaccount.com' }, open),
    ).toBe(false);
  });
  it('admits a service account that is named as admin or user', () => {
    expect(checkAllowed({ sub: '3', email: 'ops@acme.iam.gserviceaccount.com' }, open)).toBe(true);
    expect(
      checkAllowed(
        { sub: '4', email: 'ci@acme.iam.gserviceaccount.com' },
        { ...open, users: ['ci@acme.iam.gserviceaccount.com'] },
      ),
    ).toBe(true);
  });
});

describe('configuration', () => {
  it('refuses dev identities on Cloud Run, naming the variable', () => {
    expect(() => loadConfig({ HUB_AUTH: 'dev', K_SERVICE: 'hub' })).toThrow(
      /HUB_AUTH: .*Cloud Run/,
    );
  });
  it('names every invalid variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', HUB_DRIVER: 'azure' })).toThrow(
      /PORT:[\s\S]*HUB_DRIVER:/,
    );
    expect(() => loadConfig({ HUB_AUTH: 'id-token', HUB_URL: 'https://h' })).toThrow(
      /HUB_ALLOWED_DOMAINS/,
    );
  });
});
