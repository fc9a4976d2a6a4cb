import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { freePort, type IapRelay, startIapRelay } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepResult } from '../../client/src/cli/doctor/step.js';
import { runWsh } from '../../client/test/local-hub.js';
import { startTestHub, type TestHub } from '../../hub/test/harness.js';
import { simulateVms } from './gce-vms.js';

/**
 * `wsh doctor` against the hub as Cloud Run runs it with the gce driver: the
 * hub (in this process, on loopback) drives the real Compute client against
 * the Compute fake, the real vm-agent boots for each RUNNING instance and
 * calls back with instance identity tokens, and `wsh` reaches agents only
 * through the IAP relay fake, with an access token, as on Google Cloud.
 */
const USER = 'dev@example.com';
const TOKEN = 'doctor-access-token';

let hub: TestHub;
let server: Server;
let relay: IapRelay;
let vms: ReturnType<typeof simulateVms>;
let dir: string;
let tokenFile: string;

beforeAll(async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  hub = await startTestHub({ HUB_URL: url, HUB_ADMINS: USER });
  server = serve({ fetch: hub.app.fetch, port, hostname: '127.0.0.1' }) as Server;
  vms = simulateVms(hub.fake, { hubUrl: url, sign: (vm, aud) => hub.identityToken(vm, aud) });
  relay = await startIapRelay({
    token: TOKEN,
    resolveTarget: (t) => vms.target(t.instance, t.port),
  });
  dir = mkdtempSync(join(tmpdir(), 'wsh-doctor-gce-'));
  tokenFile = join(dir, 'access-token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await relay?.close();
  await vms?.close();
  await new Promise((r) => server?.close(r));
  await hub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function doctor(args: string[]) {
  return runWsh(['doctor', '--json', ...args], {
    configDir: join(dir, 'config'),
    hub: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    env: {
      WSH_DEV_EMAIL: USER,
      WSH_TRANSPORT: 'iap',
      WSH_IAP_RELAY_URL: relay.url,
      CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
    },
  });
}

function steps(stdout: string): Record<string, StepResult> {
  const report = JSON.parse(stdout) as { transport: string; steps: StepResult[] };
  expect(report.transport).toBe('iap');
  return Object.fromEntries(report.steps.map((s) => [s.step, s]));
}

describe('wsh doctor with the gce driver', () => {
  it('--full: create, READY (the agent called back), ssh through IAP, suspend, resume, delete', async () => {
    const r = await doctor(['--full']);
    expect(r.code, r.stdout + r.stderr + vms.agentLogs.slice(-5).join('')).toBe(0);
    const s = steps(r.stdout);
    expect(s.identity?.detail).toBe(`${USER} (admin)`);
    for (const name of ['create', 'ready', 'ssh', 'suspend', 'resume', 'delete'])
      expect(s[name], name).toMatchObject({ status: 'ok' });
    expect(s.ssh?.detail).toContain('through IAP');
    const created = s.create!.detail.split(' ')[0]!;
    const instanceCalls = hub.fake.calls.filter((c) => c.instance === created).map((c) => c.method);
    for (const method of ['insert', 'suspend', 'resume', 'delete'])
      expect(instanceCalls).toContain(method);
    expect(hub.fake.instance(created)).toBeUndefined();
    // The tunnels went to the agent's port on that instance, with the access token.
    expect(relay.requests.filter((q) => q.query.instance === created).length).toBeGreaterThan(0);
  });

  describe('with a READY workspace', () => {
    let id: string;
    beforeAll(async () => {
      const created = await hub.call('POST', '/workspaces', { as: USER, body: {} });
      id = created.body.id;
      const until = Date.now() + 20_000;
      while (
        (await hub.call('GET', `/workspaces/${id}/status`, { as: USER })).body.workspace.status !==
        'READY'
      ) {
        if (Date.now() > until) throw new Error(`${id} did not become READY`);
        await new Promise((res) => setTimeout(res, 100));
      }
    });

    it("reads the agent's SSH banner through the IAP tunnel", async () => {
      const r = await doctor([]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(steps(r.stdout).tunnel).toMatchObject({
        status: 'ok',
        detail: expect.stringMatching(new RegExp(`^${id} port \\d+ through IAP: SSH-2\\.0-`)),
      });
    });

    it.each([
      ['the account is not authorized', 4033, 'not authorized', 'roles/iap.tunnelResourceAccessor'],
      ['it cannot reach the agent port', 4003, 'failed to connect to backend', '35.235.240.0/20'],
    ])('fails the tunnel with what to check when IAP says %s', async (_, code, reason, hint) => {
      relay.failConnectsWith(code, reason);
      try {
        const r = await doctor([]);
        expect(r.code).toBe(1);
        expect(steps(r.stdout).tunnel).toMatchObject({
          status: 'fail',
          detail: expect.stringContaining(`${code}: ${reason}`),
          hint: expect.stringContaining(hint),
        });
      } finally {
        relay.failConnectsWith(undefined);
      }
    });
  });
});
