// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform interpolations.
import {
  HUB_COMPUTE_PERMISSIONS,
  RECONCILE_COMPUTE_PERMISSIONS,
  WORKSPACES_ONLY,
} from './hub-permissions.js';

/** Who makes a call: the module's service accounts, the team's own credentials, Eventarc's agent. */
export type Identity = 'hub' | 'workspace' | 'scheduler' | 'reconcile' | 'team' | 'eventarc agent';

/** What a grant is on, named after the module's resource it is set on. */
export type GrantScope =
  | 'project'
  | 'workspace account'
  | 'each workspace secret'
  | 'registry'
  | 'hub service'
  | 'reconcile function'
  | 'IAP tunnels';

export interface Grant {
  role: string;
  on: GrantScope;
  condition?: string;
}

export interface GoogleCall {
  by: Identity[];
  call: string;
  /** The permissions Google checks for it; empty when none is (metadata server, public keys). */
  permissions: string[];
  /** The module's grant that holds them, or why none is needed. */
  grant: Grant | { none: string };
  /**
   * Where the code makes it: each pattern must match a line of its file
   * (repo-relative; a folder ending in / means any file under it).
   */
  code: [file: string, line: RegExp][];
}

const HUB_COMPUTE_ROLE = '${google_project_iam_custom_role.hub_compute_role.name}';
const RECONCILE_COMPUTE_ROLE = '${google_project_iam_custom_role.reconcile_compute_role.name}';

/**
 * The Firestore client's reads, queries (count included), writes, batches and
 * transactions ("Firestore roles and permissions"; datastore.databases.get
 * begins and rolls back transactions, "Firestore in Datastore mode IAM").
 * IAM grants Firestore on the project or database, not on collections.
 */
const FIRESTORE_PERMISSIONS = [
  'datastore.databases.get',
  'datastore.entities.create',
  'datastore.entities.delete',
  'datastore.entities.get',
  'datastore.entities.list',
  'datastore.entities.update',
];

const NO_IAM_METADATA =
  'the metadata server answers any process on the instance, for its attached service account';

/**
 * Every Google API call the code makes (core, hub, vm-agent, cloud-init,
 * functions, client), by whom, with the permissions Google checks and the
 * module's grant that holds them. A test finds Google calls in the code and
 * fails on one not listed here, and compares the module's IAM grants with the
 * grants listed here, both ways.
 */
export const GOOGLE_CALLS: GoogleCall[] = [
  {
    by: ['hub'],
    call: 'Compute Engine: the gce driver (HUB_COMPUTE_CALLS)',
    permissions: HUB_COMPUTE_PERMISSIONS,
    grant: { role: HUB_COMPUTE_ROLE, on: 'project', condition: WORKSPACES_ONLY },
    code: [
      ['core/src/compute/gce-driver.ts', /@google-cloud\/compute/],
      ['core/src/compute/gce-rest.ts', /compute\.googleapis\.com/],
    ],
  },
  {
    by: ['hub'],
    // instances.insert with serviceAccounts[] set: "Create a VM that uses a user-managed service account".
    call: 'Compute Engine: instances.insert attaching the workspace VM account',
    permissions: ['iam.serviceAccounts.actAs'],
    grant: { role: 'roles/iam.serviceAccountUser', on: 'workspace account' },
    code: [['core/src/compute/gce-driver.ts', /serviceAccounts: \[/]],
  },
  {
    by: ['hub', 'reconcile'],
    call: 'OAuth access token for Compute from the metadata server (google-auth-library)',
    permissions: [],
    grant: { none: NO_IAM_METADATA },
    code: [
      ['core/src/compute/gce-driver.ts', /google-auth-library|auth\/cloud-platform/],
      ['core/src/compute/gce-rest.ts', /google-auth-library|auth\/cloud-platform/],
    ],
  },
  {
    by: ['hub'],
    call: 'Firestore: workspaces, keys, agent tokens, sync blobs, idempotency keys',
    permissions: FIRESTORE_PERMISSIONS,
    grant: { role: 'roles/datastore.user', on: 'project' },
    code: [
      ['core/src/', /@google-cloud\/firestore/],
      ['hub/src/', /@google-cloud\/firestore/],
    ],
  },
  {
    by: ['hub'],
    call: "Google's ID-token signing keys (www.googleapis.com/oauth2 certs), to verify agents' tokens",
    permissions: [],
    grant: { none: 'public keys, fetched without credentials' },
    code: [['hub/src/auth/google-jwt.ts', /google-auth-library/]],
  },
  {
    by: ['hub'],
    call: 'Cloud Logging: JSON lines on stdout with logging.googleapis.com/trace',
    permissions: [],
    grant: { none: 'Cloud Run collects the container’s stdout itself' },
    code: [['hub/src/log.ts', /logging\.googleapis\.com\/trace/]],
  },
  {
    by: ['workspace'],
    call: 'Metadata server: instance identity token, audience the hub URL',
    permissions: [],
    grant: { none: NO_IAM_METADATA },
    code: [['vm-agent/src/hub-client.ts', /service-accounts\/default\/identity/]],
  },
  {
    by: ['workspace'],
    call: 'Metadata server: OAuth access token and project id',
    permissions: [],
    grant: { none: NO_IAM_METADATA },
    code: [
      [
        'vm-agent/src/metadata.ts',
        /computeMetadata\/v1|service-accounts\/default\/token|project\/project-id/,
      ],
      ['vm-agent/src/config.ts', /metadata\.google\.internal/],
      ['vm-agent/src/secrets.ts', /project\/project-id/],
      ['cloud-init/src/scripts.ts', /project\/project-id/],
    ],
  },
  {
    by: ['workspace'],
    // Cloud Run checks the token in X-Serverless-Authorization before the hub sees the request.
    call: 'Cloud Run: the agent’s /agent/* callbacks to the hub',
    permissions: ['run.routes.invoke'],
    grant: { role: 'roles/run.invoker', on: 'hub service' },
    code: [['vm-agent/src/hub-client.ts', /X-Serverless-Authorization/i]],
  },
  {
    by: ['workspace'],
    call: 'Secret Manager: projects.secrets.versions.access (latest) of each workspace secret',
    permissions: ['secretmanager.versions.access'],
    grant: { role: 'roles/secretmanager.secretAccessor', on: 'each workspace secret' },
    code: [
      ['vm-agent/src/secrets.ts', /versions\/latest:access|secretmanager\.googleapis\.com/],
      ['vm-agent/src/config.ts', /secretmanager\.googleapis\.com/],
    ],
  },
  {
    by: ['workspace'],
    call: 'Artifact Registry: docker pull of the workspace image (docker-credential-gcr)',
    permissions: ['artifactregistry.repositories.downloadArtifacts'],
    grant: { role: 'roles/artifactregistry.reader', on: 'registry' },
    code: [['cloud-init/src/scripts.ts', /docker-credential-gcr/]],
  },
  {
    by: ['workspace'],
    // entries.write needs logging.logEntries.create on the project: log writes have no narrower scope.
    call: 'Cloud Logging: entries.write by docker’s gcplogs driver',
    permissions: ['logging.logEntries.create'],
    grant: { role: 'roles/logging.logWriter', on: 'project' },
    code: [['cloud-init/src/scripts.ts', /gcplogs/]],
  },
  {
    by: ['scheduler'],
    call: 'Cloud Run: POST /cleanup with the Scheduler job’s OIDC token',
    permissions: ['run.routes.invoke'],
    grant: { role: 'roles/run.invoker', on: 'hub service' },
    code: [
      ['hub/src/routes/cleanup.ts', /path: '\/cleanup'/],
      [
        'terraform/workspace-hub/src/scheduler.ts',
        /oidcToken: \{ serviceAccountEmail: ids\.scheduler/,
      ],
    ],
  },
  {
    by: ['reconcile'],
    call: 'Firestore: syncWorkspace reads and updates workspaces',
    permissions: FIRESTORE_PERMISSIONS,
    grant: { role: 'roles/datastore.user', on: 'project' },
    code: [['functions/src/index.ts', /createFirestore\(/]],
  },
  {
    by: ['reconcile'],
    call: 'Compute Engine: instances.get and zoneOperations.get (RECONCILE_DRIVER_CALLS)',
    permissions: RECONCILE_COMPUTE_PERMISSIONS,
    grant: { role: RECONCILE_COMPUTE_ROLE, on: 'project', condition: WORKSPACES_ONLY },
    code: [['functions/src/index.ts', /createGceDriver\(/]],
  },
  {
    by: ['reconcile'],
    call: 'Eventarc: receiving Compute Engine audit-log events',
    permissions: ['eventarc.events.receiveAuditLogWritten'],
    grant: { role: 'roles/eventarc.eventReceiver', on: 'project' },
    code: [['functions/src/audit-log.ts', /compute\.googleapis\.com/]],
  },
  {
    by: ['reconcile'],
    // Eventarc pushes each event to the function's service with the trigger's account.
    call: 'Cloud Run: Eventarc’s push to the function (functions-framework cloudEvent)',
    permissions: ['run.routes.invoke'],
    grant: { role: 'roles/run.invoker', on: 'reconcile function' },
    code: [['functions/src/index.ts', /@google-cloud\/functions-framework/]],
  },
  {
    by: ['eventarc agent'],
    call: 'Eventarc: its service agent routes audit logs to the triggers (not our code)',
    permissions: [],
    grant: { role: 'roles/eventarc.serviceAgent', on: 'project' },
    code: [['terraform/workspace-hub/src/eventarc-readiness.ts', /'eventarc_agent'/]],
  },
  {
    by: ['team'],
    call: 'Cloud Run: wsh and the SDK call the hub with a Google ID token',
    permissions: ['run.routes.invoke'],
    grant: { role: 'roles/run.invoker', on: 'hub service' },
    code: [['client/src/sdk/auth.ts', /getIdTokenClient|'gcloud'|google-auth-library/]],
  },
  {
    by: ['team'],
    call: 'IAP TCP forwarding: wsh tunnel’s websocket to tunnel.cloudproxy.app',
    permissions: ['iap.tunnelInstances.accessViaIAP'],
    grant: {
      role: 'roles/iap.tunnelResourceAccessor',
      on: 'IAP tunnels',
      condition: 'destination.port == ${var.agent_port}',
    },
    code: [
      ['client/src/iap-tunnel/options.ts', /tunnel\.cloudproxy\.app/],
      ['client/src/iap-tunnel/frames.ts', /tunnel\.cloudproxy\.app/],
      ['client/src/sdk/auth.ts', /google-auth-library|auth\/cloud-platform/],
    ],
  },
];

/**
 * The permissions the calls above rely on each predefined role for, as
 * Google's "IAM roles and permissions" pages (Firestore, IAM, Cloud Run,
 * Secret Manager, Artifact Registry, Cloud Logging, Eventarc, IAP) list them in
 * that role. The roles hold more (e.g. datastore.user also lists indexes and
 * statistics); none narrower holds these, and Firestore has no collection-level grant.
 */
export const PREDEFINED_ROLE_PERMISSIONS: Record<string, string[]> = {
  'roles/datastore.user': FIRESTORE_PERMISSIONS,
  'roles/iam.serviceAccountUser': ['iam.serviceAccounts.actAs'],
  'roles/run.invoker': ['run.routes.invoke'],
  'roles/secretmanager.secretAccessor': ['secretmanager.versions.access'],
  'roles/artifactregistry.reader': ['artifactregistry.repositories.downloadArtifacts'],
  'roles/logging.logWriter': ['logging.logEntries.create'],
  'roles/eventarc.eventReceiver': ['eventarc.events.receiveAuditLogWritten'],
  // Google-managed: what the service agent needs is Google's to define.
  'roles/eventarc.serviceAgent': [],
  'roles/iap.tunnelResourceAccessor': ['iap.tunnelInstances.accessViaIAP'],
};
