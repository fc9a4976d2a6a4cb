import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGceDriver, WorkspaceStore } from '@workspace-hub/core';
import { startComputeFake } from '@workspace-hub/testing';
import { testFirestore } from '@workspace-hub/testing/vitest';
import { describe, expect, it } from 'vitest';
import { auditLogEvent } from './audit-event.js';
import { quantityBytes } from './memory.js';
import { runningWorkspace, ZONE } from './running-workspace.js';

const dir = fileURLToPath(new URL('..', import.meta.url));
/** Room above the peak measured here: more events, a bigger heap before GC, Cloud Run's own processes. */
const HEADROOM = 1.5;

/** The reconcile function's `available_memory`, as the committed module deploys it. */
function moduleMemoryBytes(): number {
  const tf = JSON.parse(
    readFileSync(
      fileURLToPath(new URL('../../terraform/workspace-hub/main.tf.json', import.meta.url)),
      'utf8',
    ),
  );
  return quantityBytes(
    tf.resource.google_cloudfunctions2_function.reconcile.service_config.available_memory,
  );
}

describe('npm run package (the zip Terraform deploys)', () => {
  it('bundles our packages and lists only published dependencies', () => {
    execFileSync(process.execPath, ['scripts/package.mjs'], { cwd: dir, stdio: 'pipe' });
    const pkg = JSON.parse(readFileSync(`${dir}/deploy/package.json`, 'utf8'));
    expect(Object.keys(pkg.dependencies).sort()).toEqual(
      [
        '@google-cloud/compute',
        '@google-cloud/firestore',
        '@google-cloud/functions-framework',
        'google-auth-library',
      ].sort(),
    );
    const bundle = readFileSync(`${dir}/deploy/index.js`, 'utf8');
    expect(bundle).not.toMatch(/from ["']@workspace-hub\//);
    expect(bundle).toContain('reconcileFromAuditLog');
    // Compute stays a lazy import in the bundle too: cold starts don't pay for it.
    expect(bundle).toMatch(/import\(["']@google-cloud\/compute["']\)/);
  });

  it('handles its first event within the memory the module gives it, without loading the Compute client', async () => {
    execFileSync(process.execPath, ['scripts/package.mjs'], { cwd: dir, stdio: 'pipe' });
    const { db, projectId } = testFirestore();
    const fake = await startComputeFake({ project: projectId });
    const driver = createGceDriver({
      projectId,
      endpoint: fake.endpoint,
      authClient: fake.authClient,
    });
    try {
      const store = new WorkspaceStore(db);
      const workspace = await runningWorkspace({ store, driver, fake, projectId });
      await store.mutate(workspace.id, () => ({
        mutation: { status: 'READY', operation: null },
        value: null,
      }));
      fake.setStatus(workspace.id, 'TERMINATED', 'Instance was preempted.');
      const event = auditLogEvent({
        projectId,
        zone: ZONE,
        methodName: 'compute.instances.preempted',
        instance: workspace.id,
      });
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['test/measure-event.mjs', 'deploy/index.js', JSON.stringify(event)],
        {
          cwd: dir,
          timeout: 120_000,
          env: {
            ...process.env,
            GOOGLE_CLOUD_PROJECT: projectId,
            HUB_COMPUTE_ENDPOINT: fake.endpoint,
            METADATA_SERVER_DETECTION: 'none',
          },
        },
      );
      const run = JSON.parse(stdout.trim().split('\n').pop()!);
      expect(run.status).toBe(204);
      expect((await store.get(workspace.id))?.status).toBe('SUSPENDED');
      // Reads go by plain REST: the Compute client's protobuf descriptors are never loaded.
      expect(run.computeLibraryLoaded).toBe(false);
      const limit = moduleMemoryBytes();
      const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
      expect(
        run.maxRssBytes * HEADROOM,
        `peak RSS ${mib(run.maxRssBytes)} ×${HEADROOM} against available_memory ${mib(limit)}`,
      ).toBeLessThanOrEqual(limit);
    } finally {
      await driver.close?.();
      await fake.close();
      await db.terminate();
    }
  }, 180_000);
});
