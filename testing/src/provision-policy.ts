import type { ProvisionPolicy } from '@workspace-hub/core';

/**
 * A deployment's rules for new workspaces as tests and benchmarks use them:
 * one allowed zone, any machine type, small disk, an hour's idle timeout.
 */
export function testProvisionPolicy(projectId: string, zone = 'europe-west1-b'): ProvisionPolicy {
  return {
    projectId,
    defaultZone: zone,
    allowedZones: [zone],
    defaultMachineType: 'e2-standard-4',
    allowedMachineTypes: [],
    defaultDiskSizeGb: 20,
    defaultImageTag: 'v1',
    idleTimeoutMinutes: 60,
  };
}
