/**
 * bench/cleanup: one `/cleanup` sweep over many workspaces, against the same
 * Firestore updates made as plain batched writes, in the same run.
 * Run: npx tsx bench/cleanup/run.ts (after `npm run build`).
 */
process.env.METADATA_SERVER_DETECTION ??= 'none';

import { Timestamp } from '@google-cloud/firestore';
import {
  createFirestore,
  createGceDriver,
  deterministicRequestId,
  newWorkspace,
  sweep,
  WORKSPACES,
  type Workspace,
  WorkspaceStore,
} from '@workspace-hub/core';
import { startFirestoreEmulator } from '@workspace-hub/testing';
import { spawnComputeFake } from '../lib/compute-fake-process.js';
import { writeSection } from '../lib/results.js';

const ZONE = 'europe-west1-b';
const DUE = Number(process.env.BENCH_DUE ?? 1000);
const TOTAL = Number(process.env.BENCH_TOTAL ?? 10_000);
const policy = {
  projectId: 'bench',
  defaultZone: ZONE,
  allowedZones: [ZONE],
  defaultMachineType: 'e2-standard-4',
  allowedMachineTypes: [],
  defaultDiskSizeGb: 20,
  defaultImageTag: 'v1',
  idleTimeoutMinutes: 60,
};

/** Samples the heap while `work` runs; returns its peak above the starting point, in MiB. */
async function peakHeap<T>(
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

async function seed(projectId: string, total: number, due: number, now: Date) {
  const db = createFirestore(projectId);
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
        { ...policy, projectId },
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

async function main() {
  const emulator = await startFirestoreEmulator();
  process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
  const now = new Date();
  const rows: string[] = [];
  try {
    // Anchor: the sweep's own updates (a claim and a record per workspace) as plain
    // batched writes: no preconditions, no query, no GCE.
    const anchorEnv = await seed('bench-anchor', TOTAL, DUE, now);
    const anchor = await peakHeap(async () => {
      const started = Timestamp.fromDate(now);
      const writes = [
        { status: 'SUSPENDING', operation: { name: null, kind: 'suspend', started_at: started } },
        { operation: { name: 'operation-bench', kind: 'suspend', started_at: started } },
      ];
      for (const [n, fields] of writes.entries())
        for (let i = 0; i < anchorEnv.dueIds.length; i += 500) {
          const b = anchorEnv.db.batch();
          for (const id of anchorEnv.dueIds.slice(i, i + 500))
            b.update(anchorEnv.db.collection(WORKSPACES).doc(id), {
              ...fields,
              version: 2 + n,
              updated_at: Timestamp.now(),
            });
          await b.commit();
        }
    });
    await anchorEnv.fake.close();
    await anchorEnv.db.terminate();

    // Second anchor: the sweep's GCE calls alone (same client, fake and concurrency).
    const gceEnv = await seed('bench-gce', DUE, DUE, now);
    const gceOnly = await peakHeap(async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < gceEnv.dueIds.length) {
            const id = gceEnv.dueIds[next++]!;
            await gceEnv.driver.suspend(ZONE, id, deterministicRequestId(id, 'bench-suspend'));
          }
        }),
      );
    });
    await gceEnv.fake.close();
    await gceEnv.db.terminate();

    const results: Array<{ total: number; ms: number; peakMiB: number; suspended: number }> = [];
    for (const total of [Math.max(DUE * 2, 2000), TOTAL]) {
      const env = await seed(`bench-sweep-${total}`, total, DUE, now);
      const store = new WorkspaceStore(env.db);
      const run = await peakHeap(() =>
        sweep({ store, driver: env.driver, db: env.db }, { now, zones: [ZONE], orphanGraceMs: 0 }),
      );
      if (run.value.suspended !== DUE || run.value.errors.length)
        throw new Error(
          `sweep did not suspend all due workspaces: ${JSON.stringify(run.value).slice(0, 500)}`,
        );
      results.push({ total, ms: run.ms, peakMiB: run.peakMiB, suspended: run.value.suspended });
      await env.fake.close();
      await env.db.terminate();
    }
    const big = results.at(-1)!;
    const small = results[0]!;
    rows.push(
      '| measure | sweep | anchor | ratio | target |',
      '|---|---|---|---|---|',
      `| ${DUE} due of ${TOTAL}: time, ms | ${big.ms.toFixed(0)} | ${anchor.ms.toFixed(0)} (the same writes, batched) | **${(big.ms / anchor.ms).toFixed(2)}** | ≤ 2× |`,
      `| the same ${DUE} GCE suspend calls alone, ms | | ${gceOnly.ms.toFixed(0)} | **${(big.ms / gceOnly.ms).toFixed(2)}** | |`,
      `| sweep minus its GCE calls, ms | ${(big.ms - gceOnly.ms).toFixed(0)} | ${anchor.ms.toFixed(0)} (the same writes, batched) | **${((big.ms - gceOnly.ms) / anchor.ms).toFixed(2)}** | ≤ 2× |`,
      `| peak heap growth, MiB: ${small.total} vs ${big.total} workspaces | ${small.peakMiB.toFixed(1)} → ${big.peakMiB.toFixed(1)} | | **${(big.peakMiB / Math.max(small.peakMiB, 0.1)).toFixed(2)}** | flat (≈ 1) |`,
    );
    const body = `Firestore emulator and the Compute REST fake (in a process of its own, as GCE is elsewhere) on loopback, all on this machine's 2 cores. The sweep reads the due workspaces page by page (500), and works each page in chunks of 100, four at once: one commit of conditional claim writes (each with its own update-time precondition), one GCE suspend per claim (real @google-cloud/compute client, REST), one commit of conditional record writes. Anchors in the same run: the same 2 writes per workspace as plain batched writes (500 per batch, no preconditions), and the same GCE calls alone (32 at a time).\n\n${rows.join('\n')}`;
    console.log(body);
    writeSection('cleanup', body);
  } finally {
    await emulator.stop();
  }
}

await main();
