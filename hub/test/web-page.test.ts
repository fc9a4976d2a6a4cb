import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub, ZONE } from './harness.js';

const INDEX =
  '<!doctype html><title>Workspace Hub</title><script src="/assets/app-ABC123.js"></script>';
const SCRIPT = 'console.log("the page");'.repeat(50);
const ALICE = 'alice@example.com';

let dir: string;
let hub: TestHub;
let unbuilt: TestHub;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsh-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'app-ABC123.js'), SCRIPT);
  hub = await startTestHub(
    {
      HUB_ALLOWED_ZONES: `${ZONE},europe-west4-a`,
      HUB_ALLOWED_MACHINE_TYPES: 'e2-standard-4,e2-standard-8',
    },
    { webDir: dir },
  );
  unbuilt = await startTestHub({}, { webDir: join(dir, 'missing') });
});
afterAll(async () => {
  await hub?.close();
  await unbuilt?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the web page at /', () => {
  it('serves index.html to anyone, revalidated, under a CSP allowing only the hub itself', async () => {
    const res = await hub.app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of ['default-src', 'script-src', 'style-src', 'connect-src'])
      expect(csp).toContain(`${directive} 'self';`);
    expect(csp).not.toContain('unsafe');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(INDEX);
  });

  it('serves hashed assets with their content type, cached for good, compressed when asked', async () => {
    const res = await hub.app.request('/assets/app-ABC123.js', {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBeLessThan(SCRIPT.length);
    expect(gunzipSync(body).toString()).toBe(SCRIPT);
  });

  it('answers 304 to a revalidation of what the browser has', async () => {
    const first = await hub.app.request('/');
    const again = await hub.app.request('/', {
      headers: { 'if-none-match': first.headers.get('etag') ?? '' },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('leaves the API as it was: unknown assets are 404 problems, API routes still authenticate', async () => {
    const missing = await hub.app.request('/assets/app-OTHER.js');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect((await hub.call('GET', '/workspaces')).status).toBe(401);
    expect((await hub.call('GET', '/index.html')).status).toBe(404);
  });

  it('says the page is not built when web/dist is missing, and serves it once built', async () => {
    const r = await unbuilt.call('GET', '/');
    expect(r.status).toBe(404);
    expect(r.body.detail).toContain('npm run build');
    // `npm run build` while the hub runs: a reload shows the page, no restart needed.
    const built = join(dir, 'missing');
    mkdirSync(join(built, 'assets'), { recursive: true });
    writeFileSync(join(built, 'index.html'), INDEX);
    writeFileSync(join(built, 'assets', 'app-ABC123.js'), SCRIPT);
    const page = await unbuilt.call('GET', '/');
    expect(page.status).toBe(200);
    expect(page.body).toBe(INDEX);
    expect((await unbuilt.call('GET', '/assets/app-ABC123.js')).status).toBe(200);
  });
});

describe('GET /config', () => {
  it('tells a signed-in user the zones and machine types a create may ask for', async () => {
    const r = await hub.call('GET', '/config', { as: ALICE });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      auth: 'dev',
      zones: [ZONE, 'europe-west4-a'],
      default_zone: ZONE,
      machine_types: ['e2-standard-4', 'e2-standard-8'],
      default_machine_type: 'e2-standard-4',
      idle_timeout_minutes: 240,
      max_extend_minutes: 480,
    });
  });

  it('offers only the default zone when no others are allowed, and any machine type', async () => {
    const r = await unbuilt.call('GET', '/config', { as: ALICE });
    expect(r.body).toMatchObject({ zones: [ZONE], machine_types: [] });
  });

  it('is 401 without credentials', async () => {
    expect((await hub.call('GET', '/config')).status).toBe(401);
  });
});

describe('GET /health', () => {
  it('names the identity mode, so the page offers its email sign-in only on a dev hub', async () => {
    expect((await hub.call('GET', '/health')).body.auth).toBe('dev');
    // /health starts a Firestore probe it does not wait for; /ready waits for it.
    expect((await hub.call('GET', '/ready')).body.auth).toBe('dev');
  });
});
