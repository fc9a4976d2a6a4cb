import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { createGceDriver } from '@workspace-hub/core';
import { buildDeps, createApp, createLogger, loadConfig } from '@workspace-hub/hub';
import {
  bootCosHost,
  type CloudRunFrontDoor,
  type ComputeFake,
  type CosHost,
  type IapRelay,
  rsaSigner,
  startCloudRunFrontDoor,
  startComputeFake,
  startIapRelay,
  UNOPENED_PORT,
} from '@workspace-hub/testing';
import { testFirestore } from '@workspace-hub/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runWsh } from '../../client/test/local-hub.js';

/**
 * A workspace as it is deployed, as far as this machine can have it: the hub
 * (gce driver, Firestore emulator) behind the Cloud Run front door, the Compute
 * fake receiving the instance, and the user-data the driver sent booted on a
 * COS-like host (testing/src/cos-host: its own network namespace with COS's host
 * firewall, real cloud-init modules, a loop device as home disk). The developer's
 * `wsh ssh` goes through the IAP relay fake, whose connections to the VM come
 * from an address in IAP's range.
 */
const ZONE = 'europe-west1-b';
const AGENT_PORT = 2222;
const TOKEN = 'iap-access-token';
const google = rsaSigner();
const { db, projectId } = testFirestore();
const VM_SA = `workspace-hub-vm@${projectId}.iam.gserviceaccount.com`;

let fake: ComputeFake;
let door: CloudRunFrontDoor;
let server: ServerType;
let relay: IapRelay;
let host: CosHost | undefined;
let hubUrl: string;
let dir: string;
const hubLogs: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsh-cos-e2e-'));
  fake = await startComputeFake({ project: projectId });
  door = await startCloudRunFrontDoor({
    serviceUrls: ['https://workspace-hub-123456789.europe-west1.run.app'],
    invokers: [`serviceAccount:${VM_SA}`],
    certs: google.certs,
  });
  // The agent's HUB_URL is the front door: Cloud Run's invoker check sees every callback.
  const config = loadConfig({
    HUB_DRIVER: 'gce',
    HUB_AUTH: 'dev',
    HUB_URL: door.url,
    GOOGLE_CLOUD_PROJECT: projectId,
    HUB_ZONE: ZONE,
    HUB_COMPUTE_ENDPOINT: fake.endpoint,
    HUB_AGENT_PORT: String(AGENT_PORT),
    HUB_WORKSPACE_IMAGE: `europe-west1-docker.pkg.dev/${projectId}/workspace-hub/workspace:v1`,
  });
  const deps = await buildDeps(config, {
    db,
    driver: createGceDriver({ projectId, endpoint: fake.endpoint, authClient: fake.authClient }),
    googleCerts: async () => google.certs,
    log: createLogger((line) => hubLogs.push(line)),
  });
  // The Compute client loads on first use (seconds on a busy machine): before the test's clock.
  await deps.driver.list([ZONE], {});
  const app = createApp(deps);
  const port = Number(door.containerEnv.PORT);
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s));
  });
  // The developer reaches the hub's container directly: a dev identity cannot pass Cloud Run's check.
  hubUrl = `http://127.0.0.1:${port}`;
  relay = await startIapRelay({
    token: TOKEN,
    resolveTarget: (t) =>
      host && t.project === projectId && t.zone === ZONE && t.port === AGENT_PORT
        ? { host: '127.0.0.1', port: host.iapPathTo(t.port) }
        : undefined,
  });
});

afterAll(async () => {
  await host?.close();
  await relay?.close();
  await new Promise((resolve) => server?.close(resolve));
  await door?.close();
  await fake?.close();
  await db.terminate();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a workspace on a COS-like host', () => {
  it('boots from the user-data the gce driver sent, reports ready through Cloud Run, and takes SSH from IAP only', async () => {
    const home = join(dir, 'home');
    mkdirSync(home);
    const tokenFile = join(dir, 'access-token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const wsh = async (args: string[]) => {
      const r = await runWsh(args, {
        configDir: join(dir, 'config'),
        hub: hubUrl,
        env: {
          HOME: home,
          WSH_DEV_EMAIL: 'ada@example.com',
          WSH_TRANSPORT: 'iap',
          WSH_IAP_RELAY_URL: relay.url,
          CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
        },
      });
      expect(r.code, `wsh ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const asAda = { authorization: 'Bearer dev:ada@example.com' };
    const answer = await fetch(`${hubUrl}/workspaces`, {
      method: 'POST',
      headers: { ...asAda, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(answer.status).toBe(202);
    const created = (await answer.json()) as { id: string; instance_name: string };

    const sent = fake.instance(created.instance_name)?.resource as {
      metadata: { items: { key: string; value: string }[] };
    };
    const userData = sent.metadata.items.find((item) => item.key === 'user-data')?.value ?? '';
    host = await bootCosHost({
      userData,
      hubUrl: door.url,
      vm: {
        project: projectId,
        zone: ZONE,
        instance: created.instance_name,
        serviceAccount: VM_SA,
      },
      signer: google,
      agentMain: join(REPO_ROOT, 'vm-agent/dist/main.js'),
      iapPorts: [AGENT_PORT],
    });
    try {
      // GET …/status reconciles: RUNNING at the Compute fake and the agent's ready make READY.
      let status = '';
      for (const until = Date.now() + 20_000; status !== 'READY' && Date.now() < until; ) {
        await new Promise((r) => setTimeout(r, 250));
        const res = await fetch(`${hubUrl}/workspaces/${created.id}/status`, { headers: asAda });
        status =
          ((await res.json()) as { workspace?: { status?: string } }).workspace?.status ?? '';
      }
      expect(status, await host.logs()).toBe('READY');
      expect(door.exchanges.find((e) => e.path === '/agent/ready')).toMatchObject({
        status: 200,
        principal: `serviceAccount:${VM_SA}`,
      });

      // Real OpenSSH, ProxyCommand `wsh tunnel`, the relay, then TCP from 35.235.240.10.
      expect((await wsh(['ssh', created.id, '--', 'echo', 'via-iap-$((6*7))'])).trim()).toBe(
        'via-iap-42',
      );

      // The firewall, not a missing listener: something listens on UNOPENED_PORT.
      const [iapToAgent, outsideToAgent, iapToOther, vmToOther, outsideToSsh] = await Promise.all([
        host.probe('iap', AGENT_PORT),
        host.probe('outside', AGENT_PORT),
        host.probe('iap', UNOPENED_PORT),
        host.probe('vm', UNOPENED_PORT),
        host.probe('outside', 22),
      ]);
      expect({ iapToAgent, outsideToAgent, iapToOther, vmToOther, outsideToSsh }).toEqual({
        iapToAgent: 'connected',
        outsideToAgent: 'dropped',
        iapToOther: 'dropped',
        vmToOther: 'connected',
        // COS lets SSH in (nothing listens on this host): refused, not dropped.
        outsideToSsh: 'refused',
      });
      const rules = (await host.network.vmRules()).split('\n');
      expect(rules.filter((rule) => rule.startsWith('-A INPUT -s 35.235.240.0/20'))).toEqual([
        `-A INPUT -s 35.235.240.0/20 -p tcp -m tcp --dport ${AGENT_PORT} -j ACCEPT`,
      ]);
      expect(rules).toContain('-P INPUT DROP');
    } catch (err) {
      (err as Error).message +=
        `\n${await host.logs()}\n-- front door\n${JSON.stringify(door.exchanges)}` +
        `\n-- hub\n${hubLogs.slice(-20).join('\n')}`;
      throw err;
    }
  }, 60_000);
});
