import {
  ARTIFACT_REGISTRY_IMAGE,
  IMAGE_MAX_LENGTH,
  Ipv4RangeField,
  SecretNameField,
} from '@workspace-hub/cloud-init/spec';
import {
  DEFAULT_EVENT_RETENTION_DAYS,
  IMAGE_DIGEST,
  imageTagOf,
  type ProvisionPolicy,
  parseImageReference,
  SUSPENDED_LIMIT_ACTIONS,
} from '@workspace-hub/core/settings';
import { z } from 'zod';

const list = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const optionalInt = z.coerce.number().int().min(1).optional();
const url = z.url({ protocol: /^https?$/ });

/**
 * Every setting of the hub, from the environment. Each description is what
 * docs/ARCHITECTURE.md's table shows (`npm run docs` rewrites it).
 */
export const HubConfigSchema = z
  .object({
    PORT: int(8080, 1).describe('TCP port the hub listens on (Cloud Run sets it).'),
    HUB_DRIVER: z
      .enum(['gce', 'local'])
      .default('local')
      .describe(
        '`gce`: workspaces are Compute Engine VMs; `local`: vm-agent processes on this machine, only through `npm start` (the `local` package; `hub/dist/main.js` refuses it).',
      ),
    // No default: a hub that guessed its identity mode could take `Bearer dev:` from anyone.
    HUB_AUTH: z
      .enum(['cloud-run-iam', 'iap', 'id-token', 'dev'], {
        error: (issue) =>
          issue.input === undefined
            ? 'is required: cloud-run-iam (Cloud Run checks run.invoker, as the Terraform module deploys), iap or id-token; dev identities are only for `npm start` on loopback'
            : 'must be one of cloud-run-iam, iap, id-token, dev',
      })
      .describe(
        'Required: how users are identified (see Identity); `dev` is refused on Cloud Run (`K_SERVICE` set) and makes `main.js` listen on loopback only.',
      ),
    HUB_URL: url
      .optional()
      .describe(
        'The hub’s public URL: the audience of agent and Scheduler tokens, what agents call back. Required with `HUB_DRIVER=gce` and `HUB_AUTH=id-token`.',
      ),
    HUB_IAP_AUDIENCE: z
      .string()
      .optional()
      .describe(
        'Audience of IAP’s signed header: `/projects/NUMBER/global/backendServices/ID` (load balancer) or `/projects/NUMBER/locations/REGION/services/NAME` (IAP on Cloud Run); required with `HUB_AUTH=iap`.',
      ),
    HUB_ADMINS: list.describe(
      'Comma-separated emails of admins: they see and act on every workspace (`scope=all`).',
    ),
    HUB_ALLOWED_DOMAINS: list.describe(
      'Comma-separated email domains allowed to use the hub (in every mode; `HUB_AUTH=id-token` requires this or `HUB_ALLOWED_USERS`).',
    ),
    HUB_ALLOWED_USERS: list.describe(
      'Comma-separated emails allowed to use the hub (in every mode), besides `HUB_ALLOWED_DOMAINS`.',
    ),
    HUB_SCHEDULER_SA: z
      .string()
      .optional()
      .describe(
        'Email of the Cloud Scheduler service account whose OIDC token may call `/cleanup`.',
      ),
    GOOGLE_CLOUD_PROJECT: z
      .string()
      .min(1)
      .default('workspace-hub-local')
      .describe('Project of the workspace VMs and of Firestore.'),
    HUB_ZONE: z
      .string()
      .min(1)
      .default('europe-west1-b')
      .describe('Default zone of new workspaces.'),
    HUB_ALLOWED_ZONES: list.describe(
      'Comma-separated zones a create may ask for; empty: only `HUB_ZONE`. Must contain `HUB_ZONE` when set.',
    ),
    HUB_ALLOWED_MACHINE_TYPES: list.describe(
      'Comma-separated machine types a create may ask for; empty: any. Must contain `HUB_DEFAULT_MACHINE_TYPE` when set.',
    ),
    HUB_DEFAULT_MACHINE_TYPE: z
      .string()
      .min(1)
      .default('e2-standard-4')
      .describe('Machine type of new workspaces.'),
    HUB_DEFAULT_DISK_SIZE_GB: int(50, 10).describe(
      'Home disk size of new workspaces, in GB (at least 10).',
    ),
    HUB_WORKSPACE_IMAGE: z
      .string()
      .min(1)
      .default('workspace:latest')
      .describe(
        'Container image of the workspace (the vm-agent’s); with `HUB_DRIVER=gce` an Artifact Registry image `REGION-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG`.',
      ),
    HUB_WORKSPACE_SA: z
      .string()
      .optional()
      .describe('Email of the service account workspace VMs run as.'),
    HUB_NETWORK: z
      .string()
      .optional()
      .describe(
        'VPC network of workspace VMs: a name or a full or partial URL (`global/networks/N`); unset: the project’s `default`.',
      ),
    HUB_SUBNETWORK: z
      .string()
      .optional()
      .describe(
        'Subnetwork of workspace VMs: a name (in the workspace zone’s region) or a full or partial URL (`regions/R/subnetworks/N`).',
      ),
    // Egress (the hub's URL, Artifact Registry) needs an external IP unless the
    // subnetwork has Cloud NAT / Private Google Access; ingress stays IAP-only
    // through the firewall rule either way.
    HUB_WORKSPACE_EXTERNAL_IP: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true')
      .describe(
        '`true`: workspace VMs get an ephemeral external IP for egress; `false` when the subnetwork has Cloud NAT or Private Google Access. Ingress is IAP-only either way.',
      ),
    HUB_AGENT_PORT: int(2222, 1024)
      .pipe(z.number().max(65535))
      .describe(
        'The vm-agent’s SSH port on workspace VMs (1024–65535); the IAP firewall rule opens the same one.',
      ),
    HUB_EGRESS_RANGES: list
      .pipe(z.array(Ipv4RangeField))
      .describe(
        'Comma-separated IPv4 ranges the hub reaches agents from: the subnet of its Cloud Run Direct VPC egress (the module sets it). Workspace VMs’ host firewall opens the agent port to them besides IAP’s.',
      ),
    HUB_WORKSPACE_SECRET_NAMES: list
      .pipe(z.array(SecretNameField))
      .describe(
        'Comma-separated Secret Manager secret ids each workspace’s agent copies into its secrets tmpfs (names only; values never pass through the hub).',
      ),
    HUB_IDLE_TIMEOUT_MINUTES: int(240, 1).describe(
      'Default idle timeout of new workspaces, in minutes.',
    ),
    HUB_TERMINAL_MAX_SECONDS: int(55 * 60, 1).describe(
      'The hub closes a browser terminal’s WebSocket after this many seconds with code 4000 (reconnect), before Cloud Run ends the request at the service’s timeout (at most 60 minutes); the page reconnects and the session’s scrollback is replayed.',
    ),
    HUB_MAX_EXTEND_MINUTES: int(8 * 60, 1).describe(
      '`POST …/extend` asks for at most this many minutes, and never moves the deadline further than this past now.',
    ),
    HUB_RETENTION_DAYS: optionalInt.describe(
      'When set, `/cleanup` deletes workspaces SUSPENDED for longer than this many days.',
    ),
    HUB_SUSPENDED_LIMIT_ACTION: z
      .enum(SUSPENDED_LIMIT_ACTIONS)
      .default('stop')
      .describe(
        'What `/cleanup` does with a workspace suspended for 59 days, a day before Compute Engine terminates a suspended VM and discards its memory: `stop` resumes it and shuts it down cleanly (disks kept, `status_reason` says so), `delete` deletes it.',
      ),
    HUB_EVENTS_RETENTION_DAYS: int(DEFAULT_EVENT_RETENTION_DAYS, 1).describe(
      'Days a workspace’s events (`GET /workspaces/:id/events`) are kept: each carries `expires_at`, the field of the Terraform module’s Firestore TTL policy; older ones are never listed, and `/cleanup` deletes them where no TTL runs (the emulator).',
    ),
    HUB_MAX_WORKSPACES_PER_USER: optionalInt.describe(
      'When set, a create beyond this many workspaces of one owner is refused (429).',
    ),
    HUB_DATA_DIR: z
      .string()
      .default('.wsh-data')
      .describe(
        'Local driver: folder of the workspaces’ folders (home, agent log, instance record); `npm start` also keeps the Firestore emulator’s data in its `firestore/`.',
      ),
    HUB_COMPUTE_ENDPOINT: url
      .optional()
      .describe(
        'Compute Engine REST endpoint (e.g. `http://127.0.0.1:9000`), for the fake in `testing/`; unset: Google’s.',
      ),
    FIRESTORE_EMULATOR_HOST: z
      .string()
      .optional()
      .describe('`host:port` of a Firestore emulator; unset: the real Firestore.'),
    K_SERVICE: z
      .string()
      .optional()
      .describe('Set by Cloud Run; the hub refuses `HUB_AUTH=dev` when it is.'),
  })
  .superRefine((c, ctx) => {
    if (c.HUB_AUTH === 'dev' && c.K_SERVICE)
      ctx.addIssue({
        code: 'custom',
        path: ['HUB_AUTH'],
        message:
          'dev identities are for local mode only and refused on Cloud Run (K_SERVICE is set)',
      });
    if (c.HUB_AUTH === 'id-token' && !c.HUB_URL)
      ctx.addIssue({
        code: 'custom',
        path: ['HUB_URL'],
        message: 'is required with HUB_AUTH=id-token (the token audience)',
      });
    if (
      c.HUB_AUTH === 'id-token' &&
      c.HUB_ALLOWED_DOMAINS.length + c.HUB_ALLOWED_USERS.length + c.HUB_ADMINS.length === 0
    )
      ctx.addIssue({
        code: 'custom',
        path: ['HUB_ALLOWED_DOMAINS'],
        message:
          'with HUB_AUTH=id-token set HUB_ALLOWED_DOMAINS or HUB_ALLOWED_USERS (any Google account could sign in otherwise)',
      });
    if (c.HUB_AUTH === 'iap' && !c.HUB_IAP_AUDIENCE)
      ctx.addIssue({
        code: 'custom',
        path: ['HUB_IAP_AUDIENCE'],
        message:
          'is required with HUB_AUTH=iap: /projects/NUMBER/global/backendServices/ID (IAP on a load balancer) or /projects/NUMBER/locations/REGION/services/NAME (IAP on Cloud Run directly)',
      });
    if (c.HUB_DRIVER === 'gce' && !c.HUB_URL)
      ctx.addIssue({
        code: 'custom',
        path: ['HUB_URL'],
        message: 'is required with HUB_DRIVER=gce (workspace agents call it back)',
      });
    if (
      c.HUB_DRIVER === 'gce' &&
      (!ARTIFACT_REGISTRY_IMAGE.test(c.HUB_WORKSPACE_IMAGE) ||
        c.HUB_WORKSPACE_IMAGE.length > IMAGE_MAX_LENGTH)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['HUB_WORKSPACE_IMAGE'],
        message: `must be an Artifact Registry image like europe-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG, at most ${IMAGE_MAX_LENGTH} characters`,
      });
    const digest = parseImageReference(c.HUB_WORKSPACE_IMAGE).digest;
    if (digest !== null && !IMAGE_DIGEST.test(digest))
      ctx.addIssue({
        code: 'custom',
        path: ['HUB_WORKSPACE_IMAGE'],
        message: `its digest must be sha256: and 64 lowercase hex digits, not ${digest}`,
      });
    if (c.HUB_ALLOWED_ZONES.length > 0 && !c.HUB_ALLOWED_ZONES.includes(c.HUB_ZONE))
      ctx.addIssue({
        code: 'custom',
        path: ['HUB_ZONE'],
        message: 'must be one of HUB_ALLOWED_ZONES',
      });
    if (
      c.HUB_ALLOWED_MACHINE_TYPES.length > 0 &&
      !c.HUB_ALLOWED_MACHINE_TYPES.includes(c.HUB_DEFAULT_MACHINE_TYPE)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['HUB_DEFAULT_MACHINE_TYPE'],
        message: 'must be one of HUB_ALLOWED_MACHINE_TYPES',
      });
  })
  .transform((c) => ({ ...c, ...settingsOf(c) }));

const lowerCased = (list: readonly string[]) => list.map((s) => s.toLowerCase());

/**
 * What the variables mean, worked out once here so nothing downstream
 * derives it again: who is admitted and who is an admin (emails compared
 * lower-cased, as verifiers give them), the zones the hub serves, the rules
 * of new workspaces, and the image split into repository, tag and digest.
 */
function settingsOf(c: {
  GOOGLE_CLOUD_PROJECT: string;
  HUB_ADMINS: string[];
  HUB_ALLOWED_DOMAINS: string[];
  HUB_ALLOWED_USERS: string[];
  HUB_SCHEDULER_SA?: string | undefined;
  HUB_ZONE: string;
  HUB_ALLOWED_ZONES: string[];
  HUB_DEFAULT_MACHINE_TYPE: string;
  HUB_ALLOWED_MACHINE_TYPES: string[];
  HUB_DEFAULT_DISK_SIZE_GB: number;
  HUB_WORKSPACE_IMAGE: string;
  HUB_IDLE_TIMEOUT_MINUTES: number;
  HUB_MAX_WORKSPACES_PER_USER?: number | undefined;
}) {
  const workspaceImage = parseImageReference(c.HUB_WORKSPACE_IMAGE);
  const zones = c.HUB_ALLOWED_ZONES.length > 0 ? c.HUB_ALLOWED_ZONES : [c.HUB_ZONE];
  const provisioning: ProvisionPolicy = {
    projectId: c.GOOGLE_CLOUD_PROJECT,
    defaultZone: c.HUB_ZONE,
    allowedZones: zones,
    defaultMachineType: c.HUB_DEFAULT_MACHINE_TYPE,
    allowedMachineTypes: c.HUB_ALLOWED_MACHINE_TYPES,
    defaultDiskSizeGb: c.HUB_DEFAULT_DISK_SIZE_GB,
    defaultImageTag: imageTagOf(workspaceImage),
    idleTimeoutMinutes: c.HUB_IDLE_TIMEOUT_MINUTES,
    maxWorkspacesPerUser: c.HUB_MAX_WORKSPACES_PER_USER,
  };
  return {
    /** Who may use the hub, and who administers it (lower-cased emails and domains). */
    access: {
      admins: lowerCased(c.HUB_ADMINS),
      domains: lowerCased(c.HUB_ALLOWED_DOMAINS),
      users: lowerCased(c.HUB_ALLOWED_USERS),
    },
    /** The Scheduler's service account, lower-cased. */
    schedulerSa: c.HUB_SCHEDULER_SA?.toLowerCase(),
    /** Every zone the hub creates workspaces in (and sweeps). */
    zones,
    /** The rules of new workspaces, what creates may ask for and `GET /config` tells. */
    provisioning,
    /** Repository, tag and digest of `HUB_WORKSPACE_IMAGE`, travelling separately from here on. */
    workspaceImage,
  };
}

export type HubConfig = z.infer<typeof HubConfigSchema>;

export class ConfigError extends Error {}

/** `HUB_DRIVER=local` needs the vm-agent, which only `npm start` (the `local` package) brings. */
export const LOCAL_DRIVER_NOT_WIRED =
  'local runs through `npm start` (the local package: node local/dist/main.js), which brings the vm-agent; hub/dist/main.js drives Compute Engine (HUB_DRIVER=gce)';

/** Parses the environment; the error names every bad variable and says why. */
export function loadConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  const r = HubConfigSchema.safeParse(env);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
  throw new ConfigError(`Invalid hub configuration:\n${lines.join('\n')}`);
}
