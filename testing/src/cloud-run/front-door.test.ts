import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { googleClaims, rsaSigner } from '../tokens.js';
import { type CloudRunFrontDoor, startCloudRunFrontDoor } from './front-door.js';
import { GCLOUD_CLIENT_ID } from './invoker.js';

const google = rsaSigner();
const impostor = rsaSigner();
const SERVICE_URL = 'https://workspace-hub-123456789.europe-west1.run.app';
const CUSTOM = 'https://hub.acme.example';
const VM_SA = 'workspace-hub-vm@acme.iam.gserviceaccount.com';

/** The container: records what reached it; `/slow` answers after 3 s. */
function startContainer(port: number) {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    if (req.url === '/slow') {
      const t = setTimeout(() => res.end('late'), 3000);
      res.on('close', () => clearTimeout(t));
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true }));
  });
  return new Promise<{ seen: typeof seen; close: () => Promise<void> }>((resolve) =>
    server.listen(port, '127.0.0.1', () =>
      resolve({
        seen,
        close: () => {
          server.closeAllConnections();
          return new Promise((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

const idToken = (email: string, aud = SERVICE_URL, extra = {}) =>
  google.sign(googleClaims(aud, { sub: `sub-${email}`, email, email_verified: true, ...extra }));

let door: CloudRunFrontDoor;
let container: Awaited<ReturnType<typeof startContainer>>;

beforeAll(async () => {
  door = await startCloudRunFrontDoor({
    serviceUrls: [SERVICE_URL],
    customAudiences: [CUSTOM],
    invokers: [`serviceAccount:${VM_SA}`, 'user:ann@acme.example', 'domain:team.example'],
    certs: google.certs,
    timeoutSeconds: 1,
  });
  container = await startContainer(Number(door.containerEnv.PORT));
});
afterAll(async () => {
  await door.close();
  await container.close();
});

const send = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${door.url}${path}`, { headers });
const last = () => container.seen.at(-1)!;

describe('the Cloud Run front door', () => {
  it('gives the container PORT and K_SERVICE', () => {
    expect(door.containerEnv).toMatchObject({
      PORT: expect.stringMatching(/^\d+$/),
      K_SERVICE: 'workspace-hub',
    });
  });

  it('refuses a request without credentials with 403, before the container', async () => {
    const before = container.seen.length;
    const r = await send('/workspaces');
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(await r.text()).toContain('/workspaces');
    expect(container.seen.length).toBe(before);
  });

  it('refuses a token that does not verify with 401: signature, audience, expiry', async () => {
    const before = container.seen.length;
    const cases = {
      'bad signature': impostor.sign(googleClaims(SERVICE_URL, { email: VM_SA }), {
        kid: google.kid,
      }),
      'other audience': idToken(VM_SA, 'https://other-service.run.app'),
      expired: idToken(VM_SA, SERVICE_URL, { iat: 1_600_000_000, exp: 1_600_003_600 }),
      'not a JWT': 'ya29.an-access-token',
    };
    for (const [what, token] of Object.entries(cases)) {
      const r = await send('/agent/ready', { authorization: `Bearer ${token}` });
      expect(r.status, what).toBe(401);
      expect(r.headers.get('www-authenticate'), what).toMatch(/invalid_token/);
    }
    expect(container.seen.length).toBe(before);
  });

  it('refuses a verified caller without roles/run.invoker with 403', async () => {
    const r = await send('/', { authorization: `Bearer ${idToken('eve@evil.example')}` });
    expect(r.status).toBe(403);
    expect(door.exchanges.at(-1)?.refused).toContain('user:eve@evil.example');
  });

  it('forwards the checked Authorization token with its signature removed', async () => {
    const token = idToken(VM_SA);
    const r = await send('/agent/ready', { authorization: `Bearer ${token}` });
    expect(r.status).toBe(200);
    const [header, payload] = token.split('.');
    expect(last().headers.authorization).toBe(
      `Bearer ${header}.${payload}.SIGNATURE_REMOVED_BY_GOOGLE`,
    );
    expect(last().headers.host).toBe(new URL(SERVICE_URL).host);
    expect(last().headers['x-forwarded-proto']).toBe('https');
    expect(door.exchanges.at(-1)).toMatchObject({
      status: 200,
      principal: `serviceAccount:${VM_SA}`,
    });
  });

  it('checks X-Serverless-Authorization first and passes Authorization untouched', async () => {
    const token = idToken(VM_SA);
    const own = 'Bearer app-specific-credential';
    expect(
      (await send('/x', { 'x-serverless-authorization': `Bearer ${token}`, authorization: own }))
        .status,
    ).toBe(200);
    expect(last().headers.authorization).toBe(own);
    expect(last().headers['x-serverless-authorization']).toMatch(/\.SIGNATURE_REMOVED_BY_GOOGLE$/);
    // The same token in both: the container receives a verifiable copy in Authorization.
    await send('/y', {
      'x-serverless-authorization': `Bearer ${token}`,
      authorization: `Bearer ${token}`,
    });
    expect(last().headers.authorization).toBe(`Bearer ${token}`);
    // Only X-Serverless-Authorization is checked when present.
    const r = await send('/z', {
      'x-serverless-authorization': `Bearer ${idToken(VM_SA, 'https://elsewhere.run.app')}`,
      authorization: `Bearer ${token}`,
    });
    expect(r.status).toBe(401);
  });

  it('accepts custom audiences, domain members and gcloud user tokens', async () => {
    for (const token of [
      idToken(VM_SA, CUSTOM),
      idToken('bo@team.example'),
      idToken('ann@acme.example', GCLOUD_CLIENT_ID),
    ])
      expect((await send('/', { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('answers 504 when the container does not respond within the request timeout', async () => {
    const r = await send('/slow', { authorization: `Bearer ${idToken(VM_SA)}` });
    expect(r.status).toBe(504);
    expect(await r.text()).toContain('upstream request timeout');
  });
});

describe('a public service (allUsers)', () => {
  it('checks nothing and forwards headers untouched', async () => {
    const open = await startCloudRunFrontDoor({
      serviceUrls: [SERVICE_URL],
      invokers: ['allUsers'],
      certs: google.certs,
    });
    const c = await startContainer(Number(open.containerEnv.PORT));
    try {
      const token = impostor.sign(googleClaims('anything', { email: 'x@y.example' }));
      const r = await fetch(`${open.url}/health`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(r.status).toBe(200);
      expect(c.seen[0]?.headers.authorization).toBe(`Bearer ${token}`);
    } finally {
      await open.close();
      await c.close();
    }
  });

  it('refuses group members it cannot resolve and timeouts Cloud Run does not allow', async () => {
    const base = { serviceUrls: [SERVICE_URL], certs: google.certs };
    await expect(
      startCloudRunFrontDoor({ ...base, invokers: ['group:dev@acme.example'] }),
    ).rejects.toThrow(/group/);
    await expect(
      startCloudRunFrontDoor({ ...base, invokers: [], timeoutSeconds: 3601 }),
    ).rejects.toThrow(/3600/);
  });
});
