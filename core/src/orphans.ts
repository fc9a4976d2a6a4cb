import {
  type ComputeDriver,
  HUB_LABEL,
  type InstanceState,
  type OperationRef,
  QUARANTINE_LABEL,
  type StrayHome,
  WORKSPACE_LABEL,
} from './compute/driver.js';
import { eachLimited } from './each-limited.js';
import { HubError } from './errors.js';
import { deterministicRequestId } from './ids.js';
import type { OrphanMarker, OrphanStore } from './store/orphan-store.js';
import type { WorkspaceStore } from './store/workspace-store.js';

export interface OrphanDeps {
  driver: ComputeDriver;
  store: WorkspaceStore;
  orphans: OrphanStore;
}

/** An instance of ours with no workspace document, as `/cleanup` reports it to admins. */
export interface OrphanReport {
  zone: string;
  name: string;
  first_seen: string;
  /** Stopped and labelled, kept until an admin deletes it. */
  quarantined: boolean;
}

export interface OrphanPassResult {
  seen: OrphanReport[];
  quarantined: number;
  errors: Array<{ workspace_id: string; message: string }>;
}

const isQuarantined = (inst: InstanceState) => inst.labels[QUARANTINE_LABEL] === 'true';
const workspaceIdOf = (inst: InstanceState) => inst.labels[WORKSPACE_LABEL] ?? inst.name;

/**
 * Our labelled instances with no document. A missing document is not proof
 * the workspace is gone: after an emulator restart or a Firestore restore every
 * workspace looks orphaned. So an orphan is never deleted here: once seen for
 * the grace period it is quarantined (stopped, labelled, disks or home kept)
 * and reported, and only an admin's `deleteOrphan` removes it. Orphans are
 * rare, so their markers are read in one query and documents in chunks (one
 * round trip per chunk); markers of instances no longer orphaned go.
 */
export async function passOverOrphans(
  deps: OrphanDeps,
  opts: { zones: readonly string[]; now: Date; graceMs: number; concurrency: number },
): Promise<OrphanPassResult> {
  const now = opts.now.getTime();
  const result: OrphanPassResult = { seen: [], quarantined: 0, errors: [] };
  const instances = await deps.driver.list(opts.zones, { [HUB_LABEL]: 'true' });
  const markers = new Map<string, OrphanMarker>(
    (await deps.orphans.allMarkers()).map((m) => [`${m.zone}.${m.name}`, m]),
  );
  for (let i = 0; i < instances.length; i += 500) {
    const chunk = instances.slice(i, i + 500);
    const existing = await deps.store.existingIds(chunk.map(workspaceIdOf));
    await eachLimited(chunk, opts.concurrency, async (inst) => {
      const key = `${inst.zone}.${inst.name}`;
      const seen = markers.get(key);
      markers.delete(key);
      try {
        if (existing.has(workspaceIdOf(inst))) {
          if (seen) await deps.orphans.forget(inst.zone, inst.name);
          return;
        }
        const firstSeen = seen?.firstSeenMs ?? now;
        if (!seen) await deps.orphans.markFirstSeen(inst.zone, inst.name, firstSeen);
        let quarantined = isQuarantined(inst);
        if (!quarantined && now - firstSeen >= opts.graceMs) {
          await deps.driver.quarantine(
            inst.zone,
            inst.name,
            deterministicRequestId(inst.zone, inst.name, 'quarantine', String(firstSeen)),
          );
          quarantined = true;
          result.quarantined++;
        }
        result.seen.push({
          zone: inst.zone,
          name: inst.name,
          first_seen: new Date(firstSeen).toISOString(),
          quarantined,
        });
      } catch (err) {
        result.errors.push({
          workspace_id: workspaceIdOf(inst),
          message: err instanceof Error ? err.message : String(err),
        });
      }
    });
  }
  // Instances gone since they were seen: nothing left to report.
  await Promise.all([...markers.values()].map((m) => deps.orphans.forget(m.zone, m.name)));
  return result;
}

/** What an admin is shown: instances without a document, and homes without an instance. */
export interface OrphanListing {
  /** `first_seen` is null until a cleanup sweep has seen the instance orphaned. */
  instances: Array<Omit<OrphanReport, 'first_seen'> & { first_seen: string | null }>;
  homes: StrayHome[];
}

/**
 * Everything of ours no workspace document accounts for, read without acting
 * on it (the sweep quarantines; only an admin deletes).
 */
export async function listOrphans(
  deps: OrphanDeps,
  zones: readonly string[],
): Promise<OrphanListing> {
  const [instances, markers, homes] = await Promise.all([
    deps.driver.list(zones, { [HUB_LABEL]: 'true' }),
    deps.orphans.allMarkers(),
    deps.driver.strayHomes?.() ?? [],
  ]);
  const firstSeen = new Map(markers.map((m) => [`${m.zone}.${m.name}`, m.firstSeenMs]));
  const listing: OrphanListing = { instances: [], homes };
  for (let i = 0; i < instances.length; i += 500) {
    const chunk = instances.slice(i, i + 500);
    const existing = await deps.store.existingIds(chunk.map(workspaceIdOf));
    for (const inst of chunk.filter((x) => !existing.has(workspaceIdOf(x)))) {
      const seen = firstSeen.get(`${inst.zone}.${inst.name}`);
      listing.instances.push({
        zone: inst.zone,
        name: inst.name,
        first_seen: seen === undefined ? null : new Date(seen).toISOString(),
        quarantined: isQuarantined(inst),
      });
    }
  }
  return listing;
}

/**
 * An admin's explicit deletion of a quarantined orphan, with its disks or
 * home. Refused while the instance is not quarantined (the sweep has not
 * found it orphaned for the whole grace period) or has a document again.
 */
export async function deleteOrphan(
  deps: OrphanDeps,
  zone: string,
  name: string,
): Promise<OperationRef | null> {
  const inst = await deps.driver.get(zone, name);
  if (inst?.labels[HUB_LABEL] !== 'true' || !inst)
    throw new HubError('not_found', `no instance ${name} of this hub in ${zone}`);
  if (!isQuarantined(inst))
    throw new HubError(
      'conflict',
      `instance ${name} is not quarantined: only an orphan the cleanup sweep has set aside can be deleted`,
    );
  if ((await deps.store.existingIds([workspaceIdOf(inst)])).size)
    throw new HubError(
      'conflict',
      `instance ${name} has a workspace document again: delete the workspace instead`,
    );
  const op = await deps.driver.delete(
    zone,
    name,
    deterministicRequestId(zone, name, 'delete-orphan'),
  );
  await deps.orphans.forget(zone, name);
  return op;
}
