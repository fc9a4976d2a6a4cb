import type { Workspace } from '@workspace-hub/api';
import type { Actor } from './actor.js';
import { HubError } from './errors.js';
import type { WorkspaceStore } from './store/workspace-store.js';

/**
 * Pushes a READY workspace's idle deadline out by `minutes` from the later of
 * now and its current deadline, but never further than `maxMinutes` past now.
 * Any other status is a conflict naming it. Claimed like a transition's write
 * (read, decide, compare-and-set). Returns the workspace as written.
 */
export async function extendDeadline(
  store: WorkspaceStore,
  id: string,
  minutes: number,
  opts: { now: Date; maxMinutes: number; actor: Actor },
): Promise<Workspace> {
  const now = opts.now.getTime();
  const r = await store.decideAndSet(id, (ws) => {
    if (ws.status !== 'READY')
      throw new HubError(
        'conflict',
        `only a READY workspace can be extended; this one is ${ws.status}`,
        { current_status: ws.status },
      );
    const from = Math.max(now, ws.deadline ? Date.parse(ws.deadline) : 0);
    const deadline = new Date(Math.min(from + minutes * 60_000, now + opts.maxMinutes * 60_000));
    return { patch: { deadline: deadline.toISOString() }, value: null };
  });
  return r.written!.workspace;
}
