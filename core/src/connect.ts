import type { Workspace } from '@workspace-hub/api';
import type { Actor } from './actor.js';
import { computeDeadline } from './idle.js';
import type { WorkspaceStore } from './store/workspace-store.js';

/**
 * A client connected from a device: that counts as activity, so a READY
 * workspace's idle deadline moves out with it. Claimed like a transition's
 * write (read, decide, compare-and-set). Returns the workspace as written.
 * Without a device (a client that sent no body) the device is the caller's
 * default: see defaultDevice.
 */
export async function recordConnection(
  store: WorkspaceStore,
  id: string,
  deviceId: string | undefined,
  opts: { now: Date; actor: Actor },
): Promise<Workspace> {
  const now = opts.now.toISOString();
  const r = await store.decideAndSet(id, (ws) => ({
    patch: {
      last_connected_at: now,
      last_activity_at: now,
      last_device_id: deviceId ?? defaultDevice(ws),
      ...(ws.status === 'READY'
        ? { deadline: computeDeadline(opts.now, ws.idle_timeout_minutes).toISOString() }
        : {}),
    },
    value: null,
  }));
  return r.written!.workspace;
}

/** The device a connection without one is from: the one last recorded, else the one that created it. */
function defaultDevice(ws: Workspace): string | null {
  return ws.last_device_id ?? ws.metadata.device_id;
}
