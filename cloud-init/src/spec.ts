import { z } from 'zod';

/** Refuses control characters and whitespace, which URL parsing would silently strip or encode. */
const PRINTABLE_NO_SPACE = /^[\x21-\x7e]+$/;

const WorkspaceIdField = z
  .string()
  .regex(/^ws-[a-z2-7]{10}$/, 'must be "ws-" followed by 10 lowercase base32 characters');

const HubUrlField = z
  .string()
  .max(2048)
  .regex(PRINTABLE_NO_SPACE, 'must not contain spaces or control characters')
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
      return;
    }
    const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must use https (http only for 127.0.0.1/localhost)',
      });
    }
    // Credentials in the URL would end up in the user-data, which any project viewer can read.
    if (url.username !== '' || url.password !== '') {
      ctx.addIssue({ code: 'custom', message: 'must not contain credentials' });
    }
  });

const PROJECT_ID = '[a-z][a-z0-9-]{4,28}[a-z0-9]';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = 'sha256:[a-f0-9]{64}';
/** `<location>-docker.pkg.dev/<project>/<repository>/<image>` then `:tag`, `@digest` or both. */
export const ARTIFACT_REGISTRY_IMAGE = new RegExp(
  `^(?<host>[a-z][a-z0-9-]*-docker\\.pkg\\.dev)/${PROJECT_ID}/${PATH_COMPONENT}(?:/${PATH_COMPONENT})+` +
    `(?::${TAG}(?:@${DIGEST})?|@${DIGEST})$`,
);

/** Longest image reference a workspace spec takes (the hub and the module check it too). */
export const IMAGE_MAX_LENGTH = 512;
const ImageField = z
  .string()
  .max(IMAGE_MAX_LENGTH)
  .regex(
    ARTIFACT_REGISTRY_IMAGE,
    'must be an Artifact Registry image with a tag or digest, like us-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG',
  );

/** The workspace VM's project, handed to the agent so it needs no metadata lookup for it. */
const ProjectIdField = z
  .string()
  .regex(new RegExp(`^${PROJECT_ID}$`), 'must be a Google Cloud project id');

/** A Secret Manager secret id (the Terraform module validates its variable with the same pattern). */
export const SECRET_NAME = /^[A-Za-z0-9_-]{1,255}$/;
export const SecretNameField = z
  .string()
  .regex(SECRET_NAME, 'must be a Secret Manager secret id (letters, digits, _ and -)');

/** An IPv4 CIDR range such as 10.8.0.0/26 (what iptables `-s` takes). */
export const IPV4_RANGE =
  /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/;
export const Ipv4RangeField = z
  .string()
  .regex(IPV4_RANGE, 'must be an IPv4 CIDR range like 10.8.0.0/26');

/** Roots that are writable on Container-Optimized OS; everything else is read-only. */
const HomeMountPathField = z
  .string()
  .max(200)
  .regex(
    /^\/(?:mnt\/disks|mnt\/stateful_partition|home|var)(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/,
    'must be an absolute path under /mnt/disks, /mnt/stateful_partition, /home or /var',
  )
  .refine((value) => !value.split('/').includes('..'), { message: 'must not contain ".."' });

const UsernameField = z
  .string()
  .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a POSIX user name (lowercase, at most 32 characters)')
  .refine((value) => value !== 'root', { message: 'must not be root' });

/** What a workspace VM's user-data is rendered from. Secret values never appear here, only names. */
export const CloudConfigSpec = z
  .object({
    workspaceId: WorkspaceIdField,
    hubUrl: HubUrlField,
    image: ImageField,
    agentPort: z.number().int().min(1024).max(65535).default(2222),
    /**
     * Ranges the agent port is opened to besides IAP TCP forwarding's: the subnet of the hub's
     * Cloud Run Direct VPC egress (browser terminal, files).
     */
    agentSourceRanges: z.array(Ipv4RangeField).max(8).default([]),
    secretNames: z.array(SecretNameField).max(100).default([]),
    projectId: ProjectIdField.optional(),
    homeMountPath: HomeMountPathField.default('/mnt/disks/home'),
    username: UsernameField.default('dev'),
    uid: z.number().int().min(1000).max(60000).default(1000),
    secretsTmpfsMiB: z.number().int().min(1).max(1024).default(16),
  })
  .strict();

/** The spec as callers write it (defaults optional). */
export type CloudConfigSpec = z.input<typeof CloudConfigSpec>;
/** The spec after validation, every default filled in. */
export type ResolvedCloudConfigSpec = z.output<typeof CloudConfigSpec>;

/** Thrown for an invalid spec; the message names every offending field. */
export class CloudConfigSpecError extends Error {
  readonly fields: string[];
  constructor(issues: readonly z.core.$ZodIssue[]) {
    const lines = issues.map((issue) => `${issue.path.join('.') || '(spec)'}: ${issue.message}`);
    super(`invalid cloud-init spec: ${lines.join('; ')}`);
    this.name = 'CloudConfigSpecError';
    this.fields = issues.map((issue) => issue.path.join('.'));
  }
}

export function parseCloudConfigSpec(spec: unknown): ResolvedCloudConfigSpec {
  const result = CloudConfigSpec.safeParse(spec);
  if (!result.success) throw new CloudConfigSpecError(result.error.issues);
  return result.data;
}

/** The registry host the VM's docker must authenticate to, e.g. `europe-west1-docker.pkg.dev`. */
export function artifactRegistryHost(image: string): string {
  const host = ARTIFACT_REGISTRY_IMAGE.exec(image)?.groups?.host;
  if (host === undefined) throw new Error(`not an Artifact Registry image: ${image}`);
  return host;
}
