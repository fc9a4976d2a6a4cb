import { imageTagOf, type ProvisionPolicy } from '@workspace-hub/core';
import type { HubConfig } from '../config.js';

/** The deployment's rules for new workspaces: what creates may ask for, and `GET /config` tells. */
export function provisionPolicyOf(config: HubConfig): ProvisionPolicy {
  return {
    projectId: config.GOOGLE_CLOUD_PROJECT,
    defaultZone: config.HUB_ZONE,
    allowedZones: config.HUB_ALLOWED_ZONES.length ? config.HUB_ALLOWED_ZONES : [config.HUB_ZONE],
    defaultMachineType: config.HUB_DEFAULT_MACHINE_TYPE,
    allowedMachineTypes: config.HUB_ALLOWED_MACHINE_TYPES,
    defaultDiskSizeGb: config.HUB_DEFAULT_DISK_SIZE_GB,
    defaultImageTag: imageTagOf(config.workspaceImage),
    idleTimeoutMinutes: config.HUB_IDLE_TIMEOUT_MINUTES,
    maxWorkspacesPerUser: config.HUB_MAX_WORKSPACES_PER_USER,
  };
}
