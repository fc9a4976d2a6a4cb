import {
  type ComputeDriver,
  provisionWorkspace,
  type Workspace,
  type WorkspaceStore,
} from '@workspace-hub/core';
import { type ComputeFake, testProvisionPolicy } from '@workspace-hub/testing';

export const ZONE = 'europe-west1-b';

/** Creates a workspace the way the hub does (gce driver, Compute fake) and waits for its VM to run. */
export async function runningWorkspace(env: {
  store: WorkspaceStore;
  driver: ComputeDriver;
  fake: ComputeFake;
  projectId: string;
}): Promise<Workspace> {
  const { workspace } = await provisionWorkspace(
    {
      store: env.store,
      driver: env.driver,
      policy: testProvisionPolicy(env.projectId, ZONE),
      instanceExtras: async () => ({ userData: '#cloud-config\n{}\n', image: 'img' }),
    },
    { sub: 'u1', email: 'u@example.com' },
    {},
    { actor: { kind: 'user', sub: 'u1', email: 'u@example.com', admin: false } },
  );
  await env.fake.waitForStatus(workspace.id, 'RUNNING');
  return workspace;
}
