import { type HubConfig, type RunningHub, startHub } from '@workspace-hub/hub';
import { localDriver } from './driver.js';
import { reconcileRestoredWorkspaces } from './restore.js';

/**
 * The hub in local mode on loopback: workspaces are vm-agent processes, and
 * those a previous run left are reconciled before the first request.
 */
export function startLocalHub(config: HubConfig): Promise<RunningHub> {
  return startHub(config, '127.0.0.1', {
    driver: localDriver,
    beforeServing: reconcileRestoredWorkspaces,
  });
}
