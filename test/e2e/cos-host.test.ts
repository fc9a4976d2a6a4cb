import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bootCosHost,
  type CosHost,
  GCLOUD_CLIENT_ID,
  googleClaims,
  type IapRelay,
  rsaSigner,
  startIapRelay,
  UNOPENED_PORT,
} from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runWsh } from '../../client/test/local-hub.js';
import {
  startTestHub,
  type TestHub,
  WORKSPACE_SA,
  waitForStatus,
  ZONE,
} from '../../hub/test/harness.js';

/**
 * A workspace as deployed, as far as one machine can have it: the hub as the
 * Terraform module runs it (cloud-run-iam behind the Cloud Run front door, the
 * gce driver against the Compute fake), and the user-data the driver sent booted
 * on a COS-like host (testing/src/cos-host: network namespaces with COS's host
 * firewall, cloud-init's own write_files/runcmd, a loop device as home disk, the
 * real agent). The agent calls back through the front door; the developer's
 * `wsh ssh` (real OpenSSH) calls the hub through it too, then tunnels through the
 * IAP relay fake, whose connections to the VM come from an address in IAP's range.
 */
const ADA = 'ada@example.com';
const AGENT_PORT = 2222;
const ACCESS_TOKEN = 'iap-access-token';
const google = rsaSigner();
let hub: TestHub;
let relay: IapRelay;
let host: CosHost | undefined;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsh-cos-e2e-'));
  hub = await startTestHub(
    { HUB_AUTH: 'cloud-run-iam', HUB_AGENT_PORT: String(AGENT_PORT) },
    {
      googleSigner: google,
      behindCloudRun: { invokers: ['domain:example.com', `serviceAccount:${WORKSPACE_SA}`] },
    },
  );
  // The Compute client loads on first use (seconds on a busy machine): before the test's clock.
  await hub.deps.driver.list([ZONE], {});
  relay = await startIapRelay({
    token: ACCESS_TOKEN,
    resolveTarget: (t) =>
      host && t.zone === ZONE && t.port === AGENT_PORT
        ? { host: '127.0.0.1', port: host.iapPathTo(t.port) }
        : undefined,
  });
});

afterAll(async () => {
  await host?.close();
  await relay?.close();
  await hub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * `wsh` as a developer runs it against a real hub: its ID token from `gcloud auth
 * print-identity-token` (a stand-in printing what gcloud prints for a user account:
 * gcloud's client id as audience; `--audiences` is refused, as for users), its
 * IAP access token from the file gcloud would use.
 */
function developer() {
  const home = join(dir, 'home');
  const bin = join(dir, 'bin');
  mkdirSync(home);
  mkdirSync(bin);
  // The user hub.call({ as: ADA }) is (the harness's sub), so the workspace is theirs.
  const idToken = google.sign(
    googleClaims(GCLOUD_CLIENT_ID, { sub: `sub-${ADA}`, email: ADA, email_verified: true }),
  );
  writeFileSync(
    join(bin, 'gcloud'),
    `#!/bin/sh\n[ "$1 $2 $#" = "auth print-identity-token 2" ] && echo '${idToken}' && exit 0\n` +
      `echo "gcloud stand-in: $*" >&2\nexit 1\n`,
  );
  chmodSync(join(bin, 'gcloud'), 0o755);
  const accessToken = join(dir, 'access-token');
  writeFileSync(accessToken, `${ACCESS_TOKEN}\n`, { mode: 0o600 });
  return async (args: string[]) => {
    const r = await runWsh(args, {
      configDir: join(dir, 'config'),
      hub: hub.deps.config.HUB_URL!,
      env: {
        HOME: home,
        PATH: `${bin}:${process.env.PATH}`,
        WSH_TRANSPORT: 'iap',
        WSH_IAP_RELAY_URL: relay.url,
        CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: accessToken,
      },
    });
    expect(r.code, `wsh ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
}

describe('a workspace on a COS-like host', () => {
  it('boots from the user-data the gce driver sent, reports ready through Cloud Run, and takes SSH from IAP only', async () => {
    const wsh = developer();
    const created = await hub.call('POST', '/workspaces', { as: ADA });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const { id, instance_name: instance } = created.body as { id: string; instance_name: string };
    const sent = hub.fake.instance(instance)?.resource as {
      metadata: { items: { key: string; value: string }[] };
    };
    const userData = sent.metadata.items.find((item) => item.key === 'user-data')?.value ?? '';
    host = await bootCosHost({
      userData,
      hubUrl: hub.deps.config.HUB_URL!,
      vm: {
        project: hub.deps.config.GOOGLE_CLOUD_PROJECT,
        zone: ZONE,
        instance,
        serviceAccount: WORKSPACE_SA,
      },
      signer: google,
      agentMain: join(REPO_ROOT, 'vm-agent/dist/main.js'),
      iapPorts: [AGENT_PORT],
    });
    try {
      // GET …/status reconciles: RUNNING at the Compute fake and the agent's ready make READY.
      await waitForStatus(hub, id, ADA, 'READY', 20_000);
      expect(hub.door?.exchanges.find((e) => e.path === '/agent/ready')).toMatchObject({
        status: 200,
        principal: `serviceAccount:${WORKSPACE_SA}`,
      });

      // OpenSSH, ProxyCommand `wsh tunnel`, the relay, then TCP from 35.235.240.10.
      expect((await wsh(['ssh', id, '--', 'echo', 'via-iap-$((6*7))'])).trim()).toBe('via-iap-42');
      expect(hub.door?.exchanges.some((e) => e.principal === `user:${ADA}`)).toBe(true);

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
        `\n${await host.logs()}\n-- front door\n${JSON.stringify(hub.door?.exchanges)}` +
        `\n-- hub\n${hub.logs.slice(-20).join('\n')}`;
      throw err;
    }
  }, 60_000);
});
