import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runScriptWithStubs, writtenFile } from '../../cloud-init/src/test-support.js';
import { startTestHub, type TestHub } from './harness.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-user-data-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The user-data the gce driver sent to Compute for the workspace's instance. */
function sentUserData(hub: TestHub, instanceName: string): string {
  const sent = hub.fake.instance(instanceName)?.resource as {
    metadata: { items: { key: string; value: string }[] };
  };
  return sent.metadata.items.find((i) => i.key === 'user-data')?.value ?? '';
}

/** The words `docker run` receives on the VM, from the run-agent script in the user-data. */
async function dockerRunOnTheVm(userData: string): Promise<string[]> {
  const script = await writtenFile(dir, userData, '/etc/workspace-hub/run-agent.sh');
  const { calls } = await runScriptWithStubs(dir, script, {
    docker: 0,
    'docker-credential-gcr': 0,
    mountpoint: 0,
    mkdir: 0,
  });
  return calls.find((call) => call[0] === 'docker' && call[1] === 'run') ?? [];
}

describe("a workspace VM's user-data", () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({
      HUB_AGENT_PORT: '2299',
      HUB_WORKSPACE_SECRET_NAMES: 'github-token,npm_token',
      HUB_EGRESS_RANGES: '10.8.0.0/26',
    });
  });
  afterAll(() => hub.close());

  it('tells the agent its port, its project and which secrets to fetch', async () => {
    const created = await hub.call('POST', '/workspaces', { as: 'alice@example.com', body: {} });
    expect(created.status).toBe(202);
    const userData = sentUserData(hub, created.body.instance_name);
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(userData).toContain('AGENT_PORT=2299');
    expect(userData).toContain('WORKSPACE_SECRET_NAMES=github-token,npm_token');
    expect(userData).toContain(`GOOGLE_CLOUD_PROJECT=${created.body.project_id}`);
  });

  it('opens the agent port to the hub’s VPC egress range as well as to IAP’s', async () => {
    const created = await hub.call('POST', '/workspaces', { as: 'alice@example.com', body: {} });
    const userData = sentUserData(hub, created.body.instance_name);
    const script = await writtenFile(dir, userData, '/etc/workspace-hub/open-agent-port.sh');
    const { calls } = await runScriptWithStubs(dir, script, { iptables: 0 });
    expect(calls.map((c) => c.slice(3).join(' '))).toEqual([
      'INPUT -p tcp -s 35.235.240.0/20 --dport 2299 -j ACCEPT',
      'INPUT -p tcp -s 10.8.0.0/26 --dport 2299 -j ACCEPT',
    ]);
  });
});

const REPO = 'europe-docker.pkg.dev/acme-dev-123/workspace-hub/workspace';
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe.each([
  ['tagged', `${REPO}:v1`],
  ['pinned by digest', `${REPO}@${DIGEST}`],
  ['tagged and pinned', `${REPO}:v1@${DIGEST}`],
])('a deployment whose workspace image is %s', (_, image) => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ HUB_WORKSPACE_IMAGE: image });
  });
  afterAll(() => hub.close());

  it('runs exactly that image on the VM, in user-data cloud-init accepts', async () => {
    const created = await hub.call('POST', '/workspaces', { as: 'alice@example.com', body: {} });
    expect(created.status).toBe(202);
    const userData = sentUserData(hub, created.body.instance_name);
    expect((await dockerRunOnTheVm(userData)).at(-1)).toBe(image);

    const file = join(dir, `${created.body.id}.yaml`);
    await writeFile(file, userData);
    const { stdout } = await run('cloud-init', ['schema', '--config-file', file]);
    expect(stdout).toContain('Valid cloud-config');
  });

  it('runs the tag a user asks for from the same repository', async () => {
    const created = await hub.call('POST', '/workspaces', {
      as: 'bob@example.com',
      body: { image_tag: 'v2' },
    });
    expect(created.status).toBe(202);
    expect(created.body.image_tag).toBe('v2');
    const userData = sentUserData(hub, created.body.instance_name);
    expect((await dockerRunOnTheVm(userData)).at(-1)).toBe(`${REPO}:v2`);
  });
});
