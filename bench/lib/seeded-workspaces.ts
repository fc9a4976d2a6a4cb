/**
 * Seeded workspaces for the benchmarks that drive core against the Firestore
 * emulator and the Compute fake (bench/cleanup, bench/events): each
 * measurement on a freshly seeded project, cleared afterwards.
 */
import { Timestamp } from '@google-cloud/firestore';
import {
  createFirestore,
  createGceDriver,
  deterministicRequestId,
  newWorkspace,
  WORKSPACES,
  type Workspace,
} from '@workspace-hub/core';
import { resetFirestore, testProvisionPolicy } from '@workspace-hub/testing';
import { spawnComputeFake } from './compute-fake-process.js';

export const ZONE = 'europe-west1-b';

/** Samples the heap while `work` runs; returns its peak above the starting point, in MiB. */
export async function peakHeap<T>(
  work: () => Promise<T>,
): Promise<{ value: T; peakMiB: number; ms: number }> {
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 5);
  const t0 = performance.now();
  const value = await work();
  const ms = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  return { value, peakMiB: (peak - base) / 2 ** 20, ms };
}

/**
 * `total` READY workspaces of 50 owners (`u0`…`u49`), the first `due` past their
 * idle deadline with a RUNNING instance on a Compute fake of their own.
 */
export async function seed(projectId: string, total: number, due: number, now: Date) {
  const db = createFirestore(projectId, process.env.FIRESTORE_EMULATOR_HOST);
  const fake = await spawnComputeFake(projectId, 5);
  // As the hub wires it: no look at the suspend operation.
  const driver = createGceDriver({
    projectId,
    endpoint: fake.endpoint,
    authClient: fake.authClient,
    suspendRefusalWaitMs: 0,
  });
  const dueIds: string[] = [];
  let batch = db.batch();
  for (let i = 0; i < total; i++) {
    const ws: Workspace = {
      ...newWorkspace(
        { sub: `u${i % 50}`, email: `u${i % 50}@example.com` },
        {},
        testProvisionPolicy(projectId, ZONE),
        now,
      ),
      status: 'READY',
      operation: null,
    };
    const isDue = i < due;
    ws.deadline = new Date(now.getTime() + (isDue ? -60_000 : 3_600_000)).toISOString();
    if (isDue) dueIds.push(ws.id);
    batch.set(db.collection(WORKSPACES).doc(ws.id), {
      ...ws,
      deadline: Timestamp.fromDate(new Date(ws.deadline)),
      created_at: Timestamp.fromDate(now),
      updated_at: Timestamp.fromDate(now),
      last_activity_at: Timestamp.fromDate(now),
    });
    if ((i + 1) % 500 === 0) {
      await batch.commit();
      batch = db.batch();
    }
  }
  await batch.commit();
  // Instances exist (RUNNING) only for the due workspaces; that is all a sweep touches at GCE.
  await Promise.all(
    dueIds.map((id) =>
      driver.create(
        {
          name: id,
          zone: ZONE,
          machineType: 'e2-standard-4',
          diskSizeGb: 20,
          userData: '#cloud-config\n{}\n',
          image: 'img',
          labels: { 'workspace-hub': 'true', 'workspace-id': id },
        },
        deterministicRequestId(id, 'insert'),
      ),
    ),
  );
  for (let tries = 0; ; tries++) {
    const running = await driver.list([ZONE], { 'workspace-hub': 'true' });
    if (running.filter((i) => i.status === 'RUNNING').length === dueIds.length) break;
    if (tries > 600) throw new Error('instances did not reach RUNNING');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { db, fake, driver, dueIds };
}

export type Env = Awaited<ReturnType<typeof seed>>;

/** Seeds a project, measures `work` on it, and clears it, so every measurement starts alike. */
export async function measured<T>(
  host: string,
  projectId: string,
  total: number,
  due: number,
  work: (env: Env) => Promise<T>,
) {
  const env = await seed(projectId, total, due, new Date());
  try {
    return await peakHeap(() => work(env));
  } finally {
    await env.fake.close();
    await env.db.terminate();
    await resetFirestore(host, projectId);
  }
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
