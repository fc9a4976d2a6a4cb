/**
 * Every Compute Engine call the hub's gce driver makes (core/src/compute), with
 * the permissions Google's "Compute Engine IAM roles and permissions" lists for
 * it. The hub's custom role holds exactly their union; a test reads the driver
 * and fails when a call is missing here or a listed call is no longer made.
 */
export const HUB_COMPUTE_CALLS: Record<string, string[]> = {
  // Creates the instance with its two new disks, labels, network tag, metadata
  // (cloud-init), the VM service account, a subnet and, when asked, an external IP.
  'instances.insert': [
    'compute.instances.create',
    'compute.disks.create',
    'compute.instances.setLabels',
    'compute.instances.setTags',
    'compute.instances.setMetadata',
    'compute.instances.setServiceAccount',
    'compute.subnetworks.use',
    'compute.subnetworks.useExternalIp',
  ],
  'instances.get': ['compute.instances.get'],
  'instances.list': ['compute.instances.list'],
  'instances.start': ['compute.instances.start'],
  'instances.stop': ['compute.instances.stop'],
  'instances.suspend': ['compute.instances.suspend'],
  'instances.resume': ['compute.instances.resume'],
  // The disks are created with autoDelete, so deleting the instance deletes them.
  'instances.delete': ['compute.instances.delete', 'compute.disks.delete'],
  'instances.setLabels': ['compute.instances.setLabels'],
  'zoneOperations.get': ['compute.zoneOperations.get'],
  'zoneOperations.wait': ['compute.zoneOperations.get'],
};

export const HUB_COMPUTE_PERMISSIONS = [...new Set(Object.values(HUB_COMPUTE_CALLS).flat())].sort();

/** Workspace ids, and so instance names, start with this (core/src/ids.ts). */
export const WORKSPACE_NAME_PREFIX = 'ws-';

/**
 * The hub's grant holds on workspace instances and their disks only (and on
 * what is not an instance or a disk: subnets, zones for list and operations).
 * Compute Engine evaluates resource.name conditions on instances and disks,
 * creation included ("Resource attributes for IAM Conditions").
 */
export const WORKSPACES_ONLY = [
  '!(resource.type in ["compute.googleapis.com/Instance", "compute.googleapis.com/Disk"])',
  `resource.name.extract("/instances/{name}").startsWith("${WORKSPACE_NAME_PREFIX}")`,
  `resource.name.extract("/disks/{name}").startsWith("${WORKSPACE_NAME_PREFIX}")`,
].join(' || ');

/**
 * The reconcile function's Compute calls: syncWorkspace (core/src/sync.ts)
 * reads the instance and its pending operation, through the same driver.
 */
export const RECONCILE_DRIVER_CALLS: Record<string, string> = {
  get: 'instances.get',
  getOperation: 'zoneOperations.get',
};
export const RECONCILE_COMPUTE_PERMISSIONS = [
  ...new Set(Object.values(RECONCILE_DRIVER_CALLS).flatMap((call) => HUB_COMPUTE_CALLS[call]!)),
].sort();
