import type { ComputeDriver } from './compute/driver.js';
import { eachLimited } from './each-limited.js';
import { isHubError } from './errors.js';
import { isPastDeadline } from './idle.js';
import { isTransitional } from './lifecycle.js';
import { type OrphanReport, passOverOrphans } from './orphans.js';
import { finishInterruptedCreate, isInsertUnrecorded, type ProvisionDeps } from './provision.js';
import type { OrphanStore } from './store/orphan-store.js';
import type { WorkspaceSnapshot, WorkspaceStore } from './store/workspace-store.js';
import type { SuspendedLimitAction } from './suspend-limit.js';
import { syncWorkspace } from './sync.js';
import { type BatchOutcome, finishInterruptedCall, requestTransitions } from './transitions.js';

export interface SweepDeps {
  store: WorkspaceStore;
  driver: ComputeDriver;
  orphans: OrphanStore;
  /** Lets the sweep finish a create cut short before its insert; without it, such a create times out. */
  instanceExtras?: ProvisionDeps['instanceExtras'];
}

export interface SweepOptions {
  now?: Date;
  /** Delete SUSPENDED workspaces untouched this long; unset: never. */
  retentionDays?: number;
  /**
   * What to do with a workspace suspended a day short of Compute Engine's
   * 60-day limit (its `deadline`): `stop` resumes and stops it cleanly,
   * `delete` deletes it. Default `stop`.
   */
  suspendedLimitAction?: SuspendedLimitAction;
  /** Zones to look for orphan instances in. */
  zones: readonly string[];
  /** An orphan is quarantined only once seen this long ago (its document may be on its way). */
  orphanGraceMs?: number;
  /** Transitions younger than this are left to finish on their own. */
  settleMs?: number;
  concurrency?: number;
  pageSize?: number;
  /**
   * Delete expired events: where no TTL policy runs (the Firestore emulator).
   * On Google the `events` TTL policy deletes them, and this query would need
   * an index the module does not make.
   */
  deleteExpiredEvents?: boolean;
  /** Most events one pass deletes, per kind (expired, of removed workspaces); default 1000. */
  eventDeletesPerPass?: number;
}

export interface SweepSummary {
  suspended: number;
  /** Suspended workspaces stopped before Compute Engine's 60-day limit. */
  stopped_at_limit: number;
  deleted: number;
  repaired: number;
  /** Orphans stopped and labelled by this pass. */
  orphans_quarantined: number;
  orphans_seen: number;
  /** Every orphan seen, for admins: a quarantined one waits for `DELETE /admin/orphans/…`. */
  orphans: OrphanReport[];
  /** Events deleted: expired ones (no TTL here), and those of workspaces removed. */
  events_deleted: number;
  errors: Array<{ workspace_id: string; action: string; message: string }>;
}

const CHUNK = 100;
const CHUNKS_IN_FLIGHT = 4;

/**
 * One cleanup pass. Every action is its own claimed transition, so a user's
 * concurrent `start` wins cleanly; every query selects by state, so a pass cut
 * short is resumed by the next one, and a pass right after does nothing. The
 * parts run at once: a transition claimed here is too fresh to count as stuck
 * (`reconcile` leaves it alone until it is overdue); retention and the 60-day
 * limit both select SUSPENDED workspaces, and their claims settle which acts.
 * Each mostly waits on Firestore's queries or on GCE.
 */
export async function sweep(deps: SweepDeps, opts: SweepOptions): Promise<SweepSummary> {
  const now = opts.now ?? new Date();
  const concurrency = opts.concurrency ?? 32;
  const pageSize = opts.pageSize ?? 1000;
  const summary: SweepSummary = {
    suspended: 0,
    stopped_at_limit: 0,
    deleted: 0,
    repaired: 0,
    orphans_quarantined: 0,
    orphans_seen: 0,
    orphans: [],
    events_deleted: 0,
    errors: [],
  };
  const fail = (workspace_id: string, action: string, err: unknown) =>
    summary.errors.push({
      workspace_id,
      action,
      message: err instanceof Error ? err.message : String(err),
    });

  // A page is worked in chunks, several at once, so one chunk's compute calls
  // overlap another's Firestore commits instead of waiting for them.
  const inChunks = (
    page: readonly WorkspaceSnapshot[],
    work: (chunk: WorkspaceSnapshot[], concurrency: number) => Promise<void>,
  ) => {
    const chunks: WorkspaceSnapshot[][] = [];
    for (let i = 0; i < page.length; i += CHUNK) chunks.push(page.slice(i, i + CHUNK));
    const lanes = Math.min(CHUNKS_IN_FLIGHT, chunks.length);
    return eachLimited(chunks, lanes, (chunk) => work(chunk, Math.ceil(concurrency / lanes)));
  };
  const counter = { suspend: 'suspended', delete: 'deleted', stop: 'stopped_at_limit' } as const;
  const tally = (outcomes: BatchOutcome[], action: keyof typeof counter) => {
    for (const o of outcomes) {
      if (o.accepted) summary[counter[action]]++;
      else if (o.error && !isHubError(o.error, 'not_found')) fail(o.id, action, o.error);
    }
  };

  // The idle query is the pass's critical path: the other parts start once it
  // has answered, and fill the time its commits and GCE calls wait.
  let idleQueried!: () => void;
  const afterIdleQuery = new Promise<void>((resolve) => {
    idleQueried = resolve;
  });
  const parts = await Promise.allSettled([
    suspendIdle().finally(idleQueried),
    afterIdleQuery.then(() =>
      opts.retentionDays === undefined ? null : deleteRetired(opts.retentionDays),
    ),
    afterIdleQuery.then(repairStuck),
    afterIdleQuery.then(() => actAtSuspendedLimit(opts.suspendedLimitAction ?? 'stop')),
    afterIdleQuery.then(quarantineOrphans),
    afterIdleQuery.then(deleteOldEvents),
  ]);
  // A part that could not run at all (Firestore down, say) fails the pass, once all have stopped.
  const failed = parts.find((p) => p.status === 'rejected');
  if (failed) throw failed.reason;
  return summary;

  // 1. Idle READY workspaces: suspend (the driver stops when suspend is refused).
  async function suspendIdle() {
    for await (const page of deps.store.scan('READY', 'deadline', now, pageSize)) {
      idleQueried();
      await inChunks(page, async (chunk, chunkConcurrency) => {
        const outcomes = await requestTransitions(deps, chunk, 'stop', {
          now,
          actor: { kind: 'sweep', rule: 'idle' },
          concurrency: chunkConcurrency,
          guard: (cur) =>
            cur.status === 'READY' && isPastDeadline(cur.deadline, now)
              ? { kind: 'claim', next: 'SUSPENDING', call: 'suspend' }
              : { kind: 'noop' },
        });
        tally(outcomes, 'suspend');
      });
    }
  }

  // 2. Retention: delete long-suspended workspaces.
  async function deleteRetired(retentionDays: number) {
    const before = new Date(now.getTime() - retentionDays * 86_400_000);
    for await (const page of deps.store.scan('SUSPENDED', 'updated_at', before, pageSize)) {
      await inChunks(page, async (chunk, chunkConcurrency) => {
        const outcomes = await requestTransitions(deps, chunk, 'delete', {
          now,
          actor: { kind: 'sweep', rule: 'retention' },
          concurrency: chunkConcurrency,
          guard: (cur) =>
            cur.status === 'SUSPENDED' && Date.parse(cur.updated_at) <= before.getTime()
              ? { kind: 'claim', next: 'DELETING', call: 'delete' }
              : { kind: 'noop' },
        });
        tally(outcomes, 'delete');
      });
    }
  }

  // 2b. Suspended a day short of GCE's 60-day limit (their `deadline`, one query):
  // stopped cleanly or deleted, so GCE never discards a workspace's memory unannounced.
  async function actAtSuspendedLimit(action: SuspendedLimitAction) {
    const call = action === 'delete' ? 'delete' : 'stop';
    for await (const page of deps.store.scan('SUSPENDED', 'deadline', now, pageSize)) {
      await inChunks(page, async (chunk, chunkConcurrency) => {
        const outcomes = await requestTransitions(deps, chunk, call, {
          now,
          actor: { kind: 'sweep', rule: 'suspended-limit' },
          concurrency: chunkConcurrency,
          guard: (cur) =>
            cur.status === 'SUSPENDED' && isPastDeadline(cur.deadline, now)
              ? { kind: 'claim', next: call === 'delete' ? 'DELETING' : 'SUSPENDING', call }
              : { kind: 'noop' },
        });
        tally(outcomes, call);
      });
    }
  }

  // 3. Transitions that should have finished: read the instance and reconcile.
  async function repairStuck() {
    const settle = new Date(now.getTime() - (opts.settleMs ?? 120_000));
    // Only a pending transition has an operation: one range query on its start
    // finds them all (a status `in` query costs a scan per status).
    const actor = { kind: 'reconcile', trigger: 'sweep' } as const;
    for await (const page of deps.store.scan(null, 'operation.started_at', settle, pageSize)) {
      const stuck = page.filter(({ workspace }) => isTransitional(workspace.status));
      await eachLimited(stuck, concurrency, async ({ workspace }) => {
        const ws = workspace;
        try {
          const { instanceExtras } = deps;
          if (instanceExtras && isInsertUnrecorded(ws)) {
            // The hub stopped between the document and the insert: make the insert.
            const after = await finishInterruptedCreate({ ...deps, instanceExtras }, ws, {
              actor,
              now,
            });
            if (after.version !== ws.version) {
              summary.repaired++;
              return;
            }
            // The insert was sent, only its record is missing: reconcile as any
            // create (READY when the agent reports, ERROR past its timeout).
          }
          const r = await syncWorkspace(deps, ws, { now, actor });
          if (r.changed) summary.repaired++;
          // The hub stopped between a claim and its call: make the call.
          else if (
            r.workspace &&
            (await finishInterruptedCall(deps, r.workspace, r.instance, { now, actor }))
          )
            summary.repaired++;
        } catch (err) {
          fail(ws.id, 'repair', err);
        }
      });
    }
  }

  // 5. Events: of workspaces removed (a hub that stopped before deleting them),
  // and expired ones where no TTL policy deletes them; bounded, the next pass goes on.
  async function deleteOldEvents() {
    const events = deps.store.events;
    if (!events) return;
    const max = opts.eventDeletesPerPass ?? 1000;
    const [removed, expired] = await Promise.all([
      events.purgeRemoved(max),
      opts.deleteExpiredEvents ? events.deleteExpired(now, max) : 0,
    ]);
    summary.events_deleted = removed + expired;
  }

  // 4. Orphans: quarantined and reported, never deleted here (see passOverOrphans).
  async function quarantineOrphans() {
    const r = await passOverOrphans(deps, {
      zones: opts.zones,
      now,
      graceMs: opts.orphanGraceMs ?? 30 * 60_000,
      concurrency,
    });
    summary.orphans = r.seen;
    summary.orphans_seen = r.seen.length;
    summary.orphans_quarantined = r.quarantined;
    for (const e of r.errors) fail(e.workspace_id, 'orphan', e.message);
  }
}
