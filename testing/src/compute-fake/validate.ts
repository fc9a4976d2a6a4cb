/** What the fake checks in an `instances.insert` body, as GCE would refuse it. */

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const INSTANCE_FIELDS = new Set([
  'name',
  'description',
  'machineType',
  'disks',
  'networkInterfaces',
  'metadata',
  'labels',
  'tags',
  'serviceAccounts',
  'shieldedInstanceConfig',
  'scheduling',
  'guestAccelerators',
  'canIpForward',
  'deletionProtection',
  'advancedMachineFeatures',
  'confidentialInstanceConfig',
  'minCpuPlatform',
  'hostname',
  'resourcePolicies',
  'reservationAffinity',
  'displayDevice',
  'params',
]);

/** A full or partial URL of a Compute resource, as `instances.insert` accepts one. */
const RESOURCE_URL_PREFIX =
  '^(?:https://(?:www|compute)\\.googleapis\\.com/compute/(?:v1|beta|alpha)/)?(?:projects/[^/]+/)?';
const RESOURCE_NAME = '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?';
const NETWORK_URL = new RegExp(`${RESOURCE_URL_PREFIX}global/networks/${RESOURCE_NAME}$`);
const SUBNETWORK_URL = new RegExp(
  `${RESOURCE_URL_PREFIX}regions/([a-z0-9-]+)/subnetworks/${RESOURCE_NAME}$`,
);

/** GCE's refusal of a bare name (or anything else) where a resource URL belongs. */
const malformed = (field: string, value: unknown) =>
  `Invalid value for field '${field}': '${String(value)}'. The URL is malformed.`;

function checkNetworkInterfaces(
  interfaces: InsertBody['networkInterfaces'],
  zone: string,
): string | null {
  for (const [i, nic] of (interfaces ?? []).entries()) {
    const field = `resource.networkInterfaces[${i}]`;
    if (nic.network !== undefined && !NETWORK_URL.test(String(nic.network)))
      return malformed(`${field}.network`, nic.network);
    if (nic.subnetwork === undefined) continue;
    const region = SUBNETWORK_URL.exec(String(nic.subnetwork))?.[1];
    if (!region) return malformed(`${field}.subnetwork`, nic.subnetwork);
    // A subnetwork is regional: the instance's zone must be in its region.
    if (!zone.startsWith(`${region}-`))
      return `Invalid value for field '${field}.subnetwork': '${nic.subnetwork}'. The subnetwork must be in the same region as the instance (zone '${zone}').`;
  }
  return null;
}

export interface InsertBody {
  name?: unknown;
  machineType?: unknown;
  disks?: Array<{
    boot?: boolean;
    initializeParams?: { sourceImage?: string; diskSizeGb?: string | number };
  }>;
  metadata?: { items?: Array<{ key?: string; value?: string }> };
  labels?: Record<string, string>;
  guestAccelerators?: unknown[];
  networkInterfaces?: Array<{ network?: unknown; subnetwork?: unknown }>;
  [k: string]: unknown;
}

/** Returns the first problem with the body, in GCE's words, or null. */
export function checkInsert(body: InsertBody, zone: string): string | null {
  if (typeof body !== 'object' || body === null) return "Required field 'resource' not specified";
  for (const k of Object.keys(body))
    if (!INSTANCE_FIELDS.has(k))
      return `Invalid JSON payload received. Unknown name "${k}" at 'instance'`;
  if (typeof body.name !== 'string' || !NAME.test(body.name))
    return `Invalid value for field 'resource.name': '${String(body.name)}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`;
  const mt = String(body.machineType ?? '');
  const m = mt.match(/(?:^|\/)zones\/([^/]+)\/machineTypes\/([a-z0-9-]+)$/);
  if (!m)
    return `Invalid value for field 'resource.machineType': '${mt}'. Must be a URL to a valid Compute resource of type 'machineTypes'`;
  if (m[1] !== zone)
    return `Invalid value for field 'resource.machineType': '${mt}'. Machine type must be in zone '${zone}'`;
  const disks = body.disks ?? [];
  const boot = disks.filter((d) => d.boot);
  if (boot.length !== 1)
    return "Invalid value for field 'resource.disks': exactly one boot disk is required";
  if (!boot[0]?.initializeParams?.sourceImage)
    return "Invalid value for field 'resource.disks[0].initializeParams.sourceImage': a source image is required";
  for (const d of disks) {
    const size = d.initializeParams?.diskSizeGb;
    if (size !== undefined && !/^\d+$/.test(String(size)))
      return `Invalid value for field 'diskSizeGb': '${String(size)}'`;
  }
  const userData = body.metadata?.items?.find((i) => i.key === 'user-data')?.value;
  if (typeof userData !== 'string' || !userData.startsWith('#cloud-config'))
    return "Invalid value for field 'resource.metadata': a workspace VM needs #cloud-config user-data";
  return (
    checkLabels(body.labels, 'resource.labels') ??
    checkNetworkInterfaces(body.networkInterfaces, zone)
  );
}

/** GCE's label format rules; the problem, naming `field`, or null. */
export function checkLabels(labels: unknown, field: string): string | null {
  if (labels === undefined) return null;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels))
    return `Invalid value for field '${field}': labels must be a map`;
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(k))
      return `Invalid value for field '${field}': label key '${k}' violates format constraints`;
    if (typeof v !== 'string' || !LABEL_VALUE.test(v))
      return `Invalid value for field '${field}': label value '${String(v)}' violates format constraints`;
  }
  return null;
}
