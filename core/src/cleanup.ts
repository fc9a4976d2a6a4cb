import type { Firestore } from '@google-cloud/firestore';
import { type ComputeDriver, HUB_LABEL, WORKSPACE_LABEL } from './compute/driver.js';
import { isHubError } from './errors.js';
import { isPastDeadline } from './idle.js';
import { deterministicRequestId } from './ids.js';
import type { WorkspaceStatus } from './schema/workspace.js';
import { WORKSPACES, type WorkspaceStore } from './store/workspace-store.js';
import { syncWorkspace } from './sync.js';
import { requestTransition } from './transitions.js';

export interface SweepDeps {
  store: WorkspaceStore;
  driver: ComputeDriver;
  db: Firestore;
}

export interface SweepOptions {
  now?: Date;
  /** Delete SUSPENDED workspaces untouched this long; unset: never. */
  retentionDays?: number;
  /** Zones to look for orphan instances in. */
  zones: readonly string[];
  /** An orphan is deleted only once seen this long ago (its document may be on its way). */
  orphanGraceMs?: number;
  /** Transitions younger than this are left to finish on their own. */
  settleMs?: number;
  concurrency?: number;
  pageSize?: number;
}

export interface SweepSummary {
  suspended: number;
  deleted: number;
  repaired: number;
  orphans_deleted: number;
  orphans_seen: number;
  errors: Array<{ workspace_id: string; action: string; message: string }>;
}

/** Runs `work` over items with at most `limit` in flight. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}

const TRANSITIONAL: WorkspaceStatus[] = ['PROVISIONING', 'RESUMING', 'SUSPENDING', 'DELETING'];
const ORPHANS = 'orphan_instances';

/**
 * One cleanup pass. Every action is its own claimed transition, so a user's
 * concurrent `start` wins cleanly; every query selects by state, so a pass cut
 * short is resumed by the next one, and a pass right after does nothing.
 */
export async function sweep(deps: SweepDeps, opts: SweepOptions): Promise<SweepSummary> {
  const now = opts.now ?? new Date();
  const concurrency = opts.concurrency ?? 32;
  const pageSize = opts.pageSize ?? 200;
  const summary: SweepSummary = {
    suspended: 0,
    deleted: 0,
    repaired: 0,
    orphans_deleted: 0,
    orphans_seen: 0,
    errors: [],
  };
  const fail = (workspace_id: string, action: string, err: unknown) =>
    summary.errors.push({
      workspace_id,
      action,
      message: err instanceof Error ? err.message : String(err),
    });

  // 1. Idle READY workspaces: suspend (the driver stops when suspend is refused).
  // Claims and records travel in bulk; each is still its own conditional write.
  const bulk = deps.store.bulkCompareAndSet();
  for await (const page of deps.store.scan('READY', 'deadline', now, pageSize)) {
    await eachLimited(page, concurrency, async ({ workspace: ws, updateTime }) => {
      try {
        const r = await requestTransition(deps, ws.id, 'stop', {
          now,
          from: { workspace: ws, updateTime },
          cas: bulk.set,
          guard: (cur) =>
            cur.status === 'READY' && isPastDeadline(cur.deadline, now)
              ? { kind: 'claim', next: 'SUSPENDING', call: 'suspend' }
              : { kind: 'noop' },
        });
        if (r.accepted) summary.suspended++;
      } catch (err) {
        if (!isHubError(err, 'not_found')) fail(ws.id, 'suspend', err);
      }
    });
  }
  await bulk.close();

  // 2. Retention: delete long-suspended workspaces.
  if (opts.retentionDays !== undefined) {
    const before = new Date(now.getTime() - opts.retentionDays * 86_400_000);
    for await (const page of deps.store.scan('SUSPENDED', 'updated_at', before, pageSize)) {
      await eachLimited(page, concurrency, async ({ workspace: ws, updateTime }) => {
        try {
          const r = await requestTransition(deps, ws.id, 'delete', {
            now,
            from: { workspace: ws, updateTime },
            guard: (cur) =>
              cur.status === 'SUSPENDED' && Date.parse(cur.updated_at) <= before.getTime()
                ? { kind: 'claim', next: 'DELETING', call: 'delete' }
                : { kind: 'noop' },
          });
          if (r.accepted) summary.deleted++;
        } catch (err) {
          if (!isHubError(err, 'not_found')) fail(ws.id, 'delete', err);
        }
      });
    }
  }

  // 3. Transitions that should have finished: read the instance and reconcile.
  const settle = new Date(now.getTime() - (opts.settleMs ?? 120_000));
  for (const status of TRANSITIONAL) {
    for await (const page of deps.store.scan(status, 'updated_at', settle, pageSize)) {
      await eachLimited(page, concurrency, async ({ workspace: ws }) => {
        try {
          const r = await syncWorkspace(deps, ws, now);
          if (r.changed) summary.repaired++;
        } catch (err) {
          fail(ws.id, 'repair', err);
        }
      });
    }
  }

  // 4. Orphans: our labelled instances with no document, after a grace period.
  // Documents and markers are read in chunks (one round trip per chunk).
  const grace = opts.orphanGraceMs ?? 30 * 60_000;
  const instances = await deps.driver.list(opts.zones, { [HUB_LABEL]: 'true' });
  for (let i = 0; i < instances.length; i += 250) {
    const chunk = instances.slice(i, i + 250);
    const ids = chunk.map((inst) => inst.labels[WORKSPACE_LABEL] ?? inst.name);
    const markers = chunk.map((inst) =>
      deps.db.collection(ORPHANS).doc(`${inst.zone}.${inst.name}`),
    );
    const snaps = await deps.db.getAll(
      ...ids.map((id) => deps.db.collection(WORKSPACES).doc(id)),
      ...markers,
    );
    await eachLimited(chunk, concurrency, async (inst) => {
      const k = chunk.indexOf(inst);
      const [doc, seen, marker] = [snaps[k]!, snaps[chunk.length + k]!, markers[k]!];
      try {
        if (doc.exists) {
          if (seen.exists) await marker.delete();
          return;
        }
        summary.orphans_seen++;
        const firstSeen = seen.exists ? Number(seen.get('first_seen_ms')) : null;
        if (firstSeen === null) {
          await marker.set({ first_seen_ms: now.getTime(), name: inst.name, zone: inst.zone });
          if (grace > 0) return;
        } else if (now.getTime() - firstSeen < grace) return;
        await deps.driver.delete(
          inst.zone,
          inst.name,
          deterministicRequestId(inst.zone, inst.name, 'orphan'),
        );
        await marker.delete();
        summary.orphans_deleted++;
      } catch (err) {
        fail(ids[k]!, 'orphan', err);
      }
    });
  }
  return summary;
}
