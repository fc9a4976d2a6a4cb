import { rsaSigner } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub, WORKSPACE_SA, waitForStatus } from '../../hub/test/harness.js';
import {
  FakeHub,
  type KeyPair,
  makeKey,
  ssh,
  startTestAgent,
  type TestAgent,
  tempDir,
} from '../../vm-agent/test/helpers.js';

/**
 * The first real deploy, on one machine: the hub as the Terraform module runs it
 * (cloud-run-iam, behind Cloud Run's invoker check, the Compute fake for GCE), a
 * user creating a workspace with a gcloud identity token, and the real vm-agent
 * calling back with its instance identity token through the same front door.
 */
const ALICE = 'alice@example.com';
const google = rsaSigner();
let hub: TestHub;
let metadata: FakeHub;
let agent: TestAgent | undefined;
let laptop: KeyPair;

beforeAll(async () => {
  hub = await startTestHub(
    { HUB_AUTH: 'cloud-run-iam' },
    {
      googleSigner: google,
      behindCloudRun: { invokers: ['domain:example.com', `serviceAccount:${WORKSPACE_SA}`] },
    },
  );
  metadata = new FakeHub();
  await metadata.start();
  laptop = await makeKey(tempDir(), 'alice-laptop');
});
afterAll(async () => {
  await agent?.close();
  await metadata?.close();
  await hub?.close();
});

describe('a workspace behind Cloud Run IAM', () => {
  it('becomes READY when its agent calls back, and lets its owner in', async () => {
    const created = await hub.call('POST', '/workspaces', { as: ALICE });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const id = created.body.id as string;
    await hub.fake.waitForStatus(id, 'RUNNING');
    const ws = (await hub.deps.store.get(id))!;
    // The VM's metadata server: its identity token names this instance and the VM account.
    metadata.signIdentity = (audience) => hub.identityToken(ws, audience);
    expect(
      (
        await hub.call('PUT', '/me/keys/laptop', {
          as: ALICE,
          body: { public_key: laptop.publicKey },
        })
      ).status,
    ).toBe(200);

    agent = await startTestAgent({
      HUB_URL: hub.deps.config.HUB_URL!,
      WORKSPACE_ID: id,
      GCE_METADATA_HOST: new URL(metadata.url).host,
    });
    const ready = await waitForStatus(hub, id, ALICE, 'READY');
    expect(ready.workspace.agent).toMatchObject({ port: agent.port });
    expect(hub.door?.exchanges.find((e) => e.path === '/agent/ready')).toMatchObject({
      status: 200,
      principal: `serviceAccount:${WORKSPACE_SA}`,
    });
    // The key check asks the hub through the front door too.
    expect((await ssh(agent, laptop, ['echo in'])).stdout).toBe('in\n');
  }, 90_000);
});
