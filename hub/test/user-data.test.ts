import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './harness.js';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({
    HUB_AGENT_PORT: '2299',
    HUB_WORKSPACE_SECRET_NAMES: 'github-token,npm_token',
  });
});
afterAll(() => hub.close());

describe("a workspace VM's user-data", () => {
  it('tells the agent its port, its project and which secrets to fetch', async () => {
    const created = await hub.call('POST', '/workspaces', { as: 'alice@example.com', body: {} });
    expect(created.status).toBe(202);
    const sent = hub.fake.instance(created.body.instance_name)?.resource as {
      metadata: { items: { key: string; value: string }[] };
    };
    const userData = sent.metadata.items.find((i) => i.key === 'user-data')?.value ?? '';
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(userData).toContain('AGENT_PORT=2299');
    expect(userData).toContain('WORKSPACE_SECRET_NAMES=github-token,npm_token');
    expect(userData).toContain(`GOOGLE_CLOUD_PROJECT=${created.body.project_id}`);
  });
});
