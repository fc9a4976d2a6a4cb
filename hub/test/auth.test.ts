import { ecSigner, GCLOUD_CLIENT_ID, googleClaims, rsaSigner } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAllowed } from '../src/auth/verifiers.js';
import { loadConfig } from '../src/config.js';
import { HUB_URL, startTestHub, type TestHub, WORKSPACE_SA, ZONE } from './harness.js';

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

describe('Cloud Run IAM identities, behind the Cloud Run front door', () => {
  const SCHEDULER = 'workspace-hub-scheduler@acme-dev-123.iam.gserviceaccount.com';
  const ADMIN = 'root@example.com';
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub(
      {
        HUB_AUTH: 'cloud-run-iam',
        HUB_ALLOWED_DOMAINS: 'example.com',
        HUB_ADMINS: ADMIN,
        HUB_SCHEDULER_SA: SCHEDULER,
      },
      {
        googleSigner: google,
        behindCloudRun: {
          invokers: [
            'domain:example.com',
            'user:eve@evil.com',
            `serviceAccount:${SCHEDULER}`,
            `serviceAccount:${WORKSPACE_SA}`,
          ],
        },
      },
    );
  });
  afterAll(() => hub.close());

  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const gcloudToken = (email: string) =>
    google.sign(
      googleClaims(GCLOUD_CLIENT_ID, { sub: `sub-${email}`, email, email_verified: true }),
    );

  it('takes the user Cloud Run checked (a gcloud identity token) and applies the allow-list', async () => {
    expect(
      (await hub.call('GET', '/workspaces', bearer(gcloudToken('a@example.com')))).status,
    ).toBe(200);
    const eve = await hub.call('GET', '/workspaces', bearer(gcloudToken('eve@evil.com')));
    expect(eve.status).toBe(403);
    expect(eve.body.detail).toContain('eve@evil.com');
  });

  it('leaves refusals of unchecked callers to Cloud Run: 403 without a token, 401 with a forged one', async () => {
    expect((await hub.call('GET', '/workspaces')).status).toBe(403);
    const forged = impostor.sign(googleClaims(HUB_URL, { sub: 's', email: ADMIN }), {
      kid: google.kid,
    });
    expect((await hub.call('GET', '/workspaces', bearer(forged))).status).toBe(401);
    expect(hub.door?.exchanges.at(-1)?.refused).toMatch(/invalid token/);
  });

  it('believes only the token Cloud Run checked, never a second one in Authorization', async () => {
    const unsigned = (email: string) =>
      `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: `s-${email}`, email })).toString('base64url')}.SIGNATURE_REMOVED_BY_GOOGLE`;
    // Eve passes the invoker check with her own token and adds a made-up admin in Authorization.
    const r = await hub.call('GET', '/workspaces?limit=1', {
      headers: {
        'x-serverless-authorization': `Bearer ${gcloudToken('eve@evil.com')}`,
        authorization: `Bearer ${unsigned(ADMIN)}`,
      },
    });
    expect(r.status).toBe(403);
    expect(r.body.detail).toContain('eve@evil.com');
    // A token that reaches the hub without Cloud Run's check (signature intact) proves nothing.
    const direct = await hub.app.request('/workspaces', bearer(gcloudToken(ADMIN)));
    expect(direct.status).toBe(401);
    expect(await direct.text()).toContain('not checked by Cloud Run');
  });

  it('runs /cleanup for the Scheduler’s OIDC token as Cloud Run forwards it, and for admins only', async () => {
    const scheduler = google.sign(
      googleClaims(HUB_URL, { sub: '1', email: SCHEDULER, email_verified: true }),
    );
    const sweep = await hub.call('POST', '/cleanup', bearer(scheduler));
    expect(sweep.status, JSON.stringify(sweep.body)).toBe(200);
    expect(sweep.body).toMatchObject({ suspended: 0, errors: [] });
    const vm = hub.identityToken({ project_id: 'p', zone: ZONE, instance_name: 'ws-aaaaaaaaaa' });
    expect((await hub.call('POST', '/cleanup', bearer(vm))).status).toBe(403);
    expect((await hub.call('POST', '/cleanup', { as: 'a@example.com' })).status).toBe(403);
    expect((await hub.call('POST', '/cleanup', { as: ADMIN })).status).toBe(200);
  });
});

describe('id-token identities behind Cloud Run IAM (why the module refuses this mode)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub(
      { HUB_AUTH: 'id-token', HUB_ALLOWED_DOMAINS: 'example.com' },
      {
        googleSigner: google,
        verifierCerts: async () => google.certs,
        behindCloudRun: { invokers: ['domain:example.com'] },
      },
    );
  });
  afterAll(() => hub.close());

  it('cannot verify a user: the signature is removed, and a second copy has gcloud’s audience', async () => {
    const token = google.sign(
      googleClaims(GCLOUD_CLIENT_ID, { sub: 's', email: 'a@example.com', email_verified: true }),
    );
    const stripped = await hub.call('GET', '/workspaces', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(stripped.status).toBe(401);
    const both = await hub.call('GET', '/workspaces', {
      headers: {
        'x-serverless-authorization': `Bearer ${token}`,
        authorization: `Bearer ${token}`,
      },
    });
    expect(both.status).toBe(401);
    expect(both.body.detail).toMatch(/audience|recipient/i);
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
  it('refuses to start without an explicit identity mode, saying why', () => {
    for (const driver of ['gce', 'local'])
      expect(() =>
        loadConfig({
          HUB_DRIVER: driver,
          HUB_URL,
          HUB_WORKSPACE_IMAGE: 'europe-docker.pkg.dev/p/r/workspace:v1',
        }),
      ).toThrow(/HUB_AUTH: is required: cloud-run-iam .*dev identities are only for `npm start`/);
  });
  it('names both IAP audience forms', () => {
    expect(() => loadConfig({ HUB_AUTH: 'iap' })).toThrow(
      /backendServices\/ID.*\/projects\/NUMBER\/locations\/REGION\/services\/NAME/,
    );
  });
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
