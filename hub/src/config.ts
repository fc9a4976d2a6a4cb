import { ARTIFACT_REGISTRY_IMAGE, SecretNameField } from '@workspace-hub/cloud-init';
import { parseImageReference } from '@workspace-hub/core';
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

/** Every setting of the hub, from the environment (DESIGN.md, Configuration). */
export const HubConfigSchema = z
  .object({
    PORT: int(8080, 1),
    HUB_DRIVER: z.enum(['gce', 'local']).default('local'),
    HUB_AUTH: z.enum(['cloud-run-iam', 'iap', 'id-token', 'dev']).default('dev'),
    HUB_URL: url.optional(),
    HUB_IAP_AUDIENCE: z.string().optional(),
    HUB_ADMINS: list,
    HUB_ALLOWED_DOMAINS: list,
    HUB_ALLOWED_USERS: list,
    HUB_SCHEDULER_SA: z.string().optional(),
    GOOGLE_CLOUD_PROJECT: z.string().min(1).default('workspace-hub-local'),
    HUB_ZONE: z.string().min(1).default('europe-west1-b'),
    HUB_ALLOWED_ZONES: list,
    HUB_ALLOWED_MACHINE_TYPES: list,
    HUB_DEFAULT_MACHINE_TYPE: z.string().min(1).default('e2-standard-4'),
    HUB_DEFAULT_DISK_SIZE_GB: int(50, 10),
    HUB_WORKSPACE_IMAGE: z.string().min(1).default('workspace:latest'),
    HUB_WORKSPACE_SA: z.string().optional(),
    HUB_NETWORK: z.string().optional(),
    HUB_SUBNETWORK: z.string().optional(),
    /**
     * Workspace VMs get an ephemeral external IP for egress (the hub's URL,
     * Artifact Registry) unless the subnetwork has Cloud NAT / Private Google
     * Access; ingress stays limited to IAP by the firewall rule either way.
     */
    HUB_WORKSPACE_EXTERNAL_IP: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    /** The vm-agent's SSH port on workspace VMs; the IAP firewall rule opens the same one. */
    HUB_AGENT_PORT: int(2222, 1024).pipe(z.number().max(65535)),
    /** Secret Manager secrets each workspace's agent copies into its tmpfs (names only). */
    HUB_WORKSPACE_SECRET_NAMES: list.pipe(z.array(SecretNameField)),
    HUB_IDLE_TIMEOUT_MINUTES: int(240, 1),
    HUB_MAX_EXTEND_MINUTES: int(8 * 60, 1),
    HUB_RETENTION_DAYS: optionalInt,
    HUB_MAX_WORKSPACES_PER_USER: optionalInt,
    HUB_DATA_DIR: z.string().default('.wsh-data'),
    HUB_COMPUTE_ENDPOINT: url.optional(),
    FIRESTORE_EMULATOR_HOST: z.string().optional(),
    K_SERVICE: z.string().optional(),
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
        message: 'is required with HUB_AUTH=iap (e.g. /projects/NUMBER/global/backendServices/ID)',
      });
    if (c.HUB_DRIVER === 'gce' && !c.HUB_URL)
      ctx.addIssue({
        code: 'custom',
        path: ['HUB_URL'],
        message: 'is required with HUB_DRIVER=gce (workspace agents call it back)',
      });
    if (c.HUB_DRIVER === 'gce' && !ARTIFACT_REGISTRY_IMAGE.test(c.HUB_WORKSPACE_IMAGE))
      ctx.addIssue({
        code: 'custom',
        path: ['HUB_WORKSPACE_IMAGE'],
        message:
          'must be an Artifact Registry image like europe-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG',
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
  // Parsed once: repository, tag and digest travel separately from here on.
  .transform((c) => ({ ...c, workspaceImage: parseImageReference(c.HUB_WORKSPACE_IMAGE) }));
export type HubConfig = z.infer<typeof HubConfigSchema>;

export class ConfigError extends Error {}

/** Parses the environment; the error names every bad variable and says why. */
export function loadConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  const r = HubConfigSchema.safeParse(env);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
  throw new ConfigError(`Invalid hub configuration:\n${lines.join('\n')}`);
}
