import type { AgentReadyBody } from '@workspace-hub/api';
import type { Activity } from './activity.js';
import { HeartbeatLoop } from './heartbeat.js';
import type { HubClient } from './hub-client.js';
import { log } from './log.js';
import type { SessionManager } from './sessions.js';

export interface HubCallbacks {
  /** Posts /agent/ready again (resume, or the hub asked). */
  reportReady(): void;
  stop(): void;
}

/**
 * Reports ready now, then heartbeats while there is activity. A ready report
 * asked for while one is in flight is sent once that one ends: never two at
 * once, and none lost.
 */
export function startHubCallbacks(opts: {
  hub: Pick<HubClient, 'ready' | 'heartbeat'>;
  report: AgentReadyBody;
  activity: Activity;
  sessions: SessionManager;
  heartbeatSeconds: number;
}): HubCallbacks {
  const { hub, report } = opts;
  let inFlight = false;
  let again = false;
  const reportReady = (): void => {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    void hub
      .ready(report)
      .then((ok) => {
        if (ok) log('INFO', 'reported ready to the hub');
      })
      .finally(() => {
        inFlight = false;
        if (again) {
          again = false;
          reportReady();
        }
      });
  };
  reportReady();
  const heartbeat = new HeartbeatLoop({
    hub,
    workspaceId: report.workspace_id,
    activity: opts.activity,
    intervalSeconds: opts.heartbeatSeconds,
    snapshot: () => {
      const list = opts.sessions.list();
      // The hub takes ids of at most 64 characters; a key comment or WSH_DEVICE_ID may be longer.
      const devices = list.flatMap((s) => s.clientDevices).map((d) => d.slice(0, 64));
      return { sessions: list.length, attachedDevices: [...new Set(devices)] };
    },
    reportReady,
  });
  heartbeat.start();
  return { reportReady, stop: () => heartbeat.stop() };
}
