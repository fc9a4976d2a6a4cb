// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform interpolations, not JavaScript templates.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  DELETED_WORKSPACES,
  EVENT_EXPIRY_FIELD,
  EVENTS,
  HUB_CONNECTION_KEYS,
  IDEMPOTENCY_KEY_EXPIRY_FIELD,
  IDEMPOTENCY_KEYS,
  SSH_KEYS,
  SYNC_BLOBS,
} from '@workspace-hub/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { synthesizeModule } from './synthesize.js';

const moduleDir = fileURLToPath(new URL('../', import.meta.url));
const REGENERATE = 'npm run synth -w @workspace-hub/terraform';

type Block = Record<string, unknown>;
let synthesized: Record<string, string>;
let main: { resource: Record<string, Record<string, Block>>; locals: Block; data: Block };
let variables: Record<string, Block>;
let outputs: Record<string, Block>;

beforeAll(() => {
  synthesized = synthesizeModule();
  main = JSON.parse(synthesized['main.tf.json']!);
  variables = JSON.parse(synthesized['variables.tf.json']!).variable;
  outputs = JSON.parse(synthesized['outputs.tf.json']!).output;
});

const resource = (type: string, name: string): Block => {
  const found = main.resource[type]?.[name];
  if (!found) throw new Error(`no ${type}.${name} in the module`);
  return found;
};
const resourcesOf = (type: string): Block[] => Object.values(main.resource[type] ?? {});
const roleGrants = (type: string) =>
  resourcesOf(type).map((grant) => ({ role: grant.role, member: grant.member }));

describe('the committed Terraform module', () => {
  it('is exactly what the CDKTF source synthesizes', async () => {
    const committed = (await readdir(moduleDir)).filter((name) => name.endsWith('.tf.json')).sort();
    expect(committed, `stale or missing *.tf.json: run \`${REGENERATE}\``).toEqual(
      Object.keys(synthesized).sort(),
    );
    for (const [name, content] of Object.entries(synthesized)) {
      const onDisk = await readFile(`${moduleDir}${name}`, 'utf8');
      expect(onDisk, `${name} is out of date: run \`${REGENERATE}\` and commit it`).toBe(content);
    }
  });

  it('synthesizes deterministically', () => {
    expect(synthesizeModule()).toEqual(synthesized);
  });

  it('configures no backend and no provider credentials', () => {
    const all = Object.values(synthesized).join('\n');
    expect(all).not.toMatch(/"backend"|"credentials"|"access_token"/);
    // A provider configuration block; a resource may still name its provider ("provider": "google-beta").
    for (const content of Object.values(synthesized))
      expect(Object.keys(JSON.parse(content))).not.toContain('provider');
    expect(
      JSON.parse(synthesized['versions.tf.json']!).terraform.required_providers.google.source,
    ).toBe('hashicorp/google');
  });

  it('refers only to variables, locals and resources it defines', () => {
    const text = `${synthesized['main.tf.json']}${synthesized['outputs.tf.json']}`;
    for (const [, name] of text.matchAll(/\bvar\.([a-z0-9_]+)/g))
      expect(variables).toHaveProperty(name!);
    for (const [, name] of text.matchAll(/\blocal\.([a-z0-9_]+)/g))
      expect(main.locals).toHaveProperty(name!);
    for (const [, type, name] of text.matchAll(
      /\$\{[^}]*?(?<!data\.)\b(google_[a-z0-9_]+)\.([a-z0-9_]+)/g,
    )) {
      expect(main.resource[type!], `${type}.${name}`).toHaveProperty(name!);
    }
    for (const [, name] of text.matchAll(/data\.google_project\.([a-z0-9_]+)/g)) {
      expect((main.data.google_project as Block)[name!]).toBeDefined();
    }
  });

  it('uses every variable', () => {
    const text = `${synthesized['main.tf.json']}${synthesized['outputs.tf.json']}`;
    const unused = Object.keys(variables).filter((name) => !text.includes(`var.${name}`));
    expect(unused).toEqual([]);
  });

  it('enables every API the deployment calls', () => {
    const services = resourcesOf('google_project_service').map((api) => api.service);
    expect(services.sort()).toEqual(
      [
        'run',
        'firestore',
        'compute',
        'artifactregistry',
        'cloudscheduler',
        'iap',
        'iam',
        'secretmanager',
        'eventarc',
        'pubsub',
        'cloudfunctions',
        'cloudbuild',
        'logging',
      ]
        .map((api) => `${api}.googleapis.com`)
        .sort(),
    );
    for (const api of resourcesOf('google_project_service'))
      expect(api.disable_on_destroy).toBe(false);
  });

  it('creates a native Firestore database and the composite indexes the hub queries need', () => {
    expect(resource('google_firestore_database', 'firestore')).toMatchObject({
      name: '(default)',
      type: 'FIRESTORE_NATIVE',
      deletion_policy: 'ABANDON',
    });
    const indexes = resourcesOf('google_firestore_index').map((index) => {
      expect(index.collection).toBe('workspaces');
      const fields = index.fields as Array<{ field_path: string; order: string }>;
      return fields
        .map((f) => `${f.field_path} ${f.order === 'ASCENDING' ? 'ASC' : 'DESC'}`)
        .join(', ');
    });
    expect(indexes.sort()).toEqual(
      [
        'owner_id ASC, created_at DESC, __name__ DESC',
        'owner_id ASC, status ASC, created_at DESC, __name__ DESC',
        'status ASC, created_at DESC, __name__ DESC',
        'status ASC, deadline ASC, __name__ ASC',
        'status ASC, updated_at ASC, __name__ ASC',
      ].sort(),
    );
  });

  it('expires idempotency keys, hub connection keys and events by TTL and indexes no large field no query needs', () => {
    const fields = resourcesOf('google_firestore_field').map((f) => ({
      at: `${f.collection}.${f.field}`,
      ttl: f.ttl_config,
      index: f.index_config,
    }));
    expect(fields).toContainEqual({
      at: `${IDEMPOTENCY_KEYS}.${IDEMPOTENCY_KEY_EXPIRY_FIELD}`,
      ttl: {},
      index: {},
    });
    expect(fields).toContainEqual({ at: `${HUB_CONNECTION_KEYS}.expires_at`, ttl: {}, index: {} });
    // Events expire too: the store writes `expires_at` on each, and on each removed workspace's marker.
    for (const expiring of [EVENTS, DELETED_WORKSPACES])
      expect(fields).toContainEqual({
        at: `${expiring}.${EVENT_EXPIRY_FIELD}`,
        ttl: {},
        index: {},
      });
    for (const large of [`${SYNC_BLOBS}.content`, `${SSH_KEYS}.public_key`])
      expect(fields).toContainEqual({ at: large, ttl: undefined, index: {} });
  });

  it('creates a docker Artifact Registry repository the VMs may only read', () => {
    expect(resource('google_artifact_registry_repository', 'registry').format).toBe('DOCKER');
    expect(
      resource('google_artifact_registry_repository_iam_member', 'workspace_registry_reader'),
    ).toMatchObject({
      role: 'roles/artifactregistry.reader',
      member: '${google_service_account.workspace_sa.member}',
      repository: '${google_artifact_registry_repository.registry.name}',
    });
  });

  it('grants each service account only its least-privilege roles', () => {
    expect(
      resourcesOf('google_service_account')
        .map((sa) => sa.account_id)
        .sort(),
    ).toEqual([
      'workspace-hub',
      'workspace-hub-reconcile',
      'workspace-hub-scheduler',
      'workspace-hub-vm',
    ]);
    const projectGrants = roleGrants('google_project_iam_member');
    const rolesOf = (sa: string) =>
      projectGrants
        .filter((grant) => grant.member === `\${google_service_account.${sa}.member}`)
        .map((grant) => grant.role)
        .sort();
    // Compute: a custom role on workspace VMs only (hub-permissions.test.ts).
    expect(rolesOf('hub_sa')).toEqual([
      '${google_project_iam_custom_role.hub_compute_role.name}',
      'roles/datastore.user',
    ]);
    expect(rolesOf('workspace_sa')).toEqual(['roles/logging.logWriter']);
    expect(rolesOf('reconcile_sa')).toEqual([
      '${google_project_iam_custom_role.reconcile_compute_role.name}',
      'roles/datastore.user',
      'roles/eventarc.eventReceiver',
    ]);
    expect(rolesOf('scheduler_sa')).toEqual([]);
    // serviceAccountUser on the VM account only, never project-wide.
    expect(resource('google_service_account_iam_member', 'hub_acts_as_workspace_sa')).toMatchObject(
      {
        service_account_id: '${google_service_account.workspace_sa.name}',
        role: 'roles/iam.serviceAccountUser',
        member: '${google_service_account.hub_sa.member}',
      },
    );
    expect(projectGrants.map((grant) => grant.role)).not.toContain('roles/iam.serviceAccountUser');
  });

  it('lets the VMs read only the secrets named by a variable', () => {
    expect(resource('google_secret_manager_secret', 'workspace_secret').for_each).toBe(
      '${toset(var.workspace_secret_names)}',
    );
    expect(
      resource('google_secret_manager_secret_iam_member', 'workspace_secret_accessor'),
    ).toMatchObject({
      for_each: '${google_secret_manager_secret.workspace_secret}',
      secret_id: '${each.value.secret_id}',
      role: 'roles/secretmanager.secretAccessor',
      member: '${google_service_account.workspace_sa.member}',
    });
  });

  it('runs the hub on Cloud Run with a one-hour timeout, scale to zero and its configuration', () => {
    const hub = resource('google_cloud_run_v2_service', 'hub');
    const template = hub.template as Block;
    expect(template.timeout).toBe('3600s');
    expect((template.scaling as Block).min_instance_count).toBe(0);
    expect(template.service_account).toBe('${google_service_account.hub_sa.email}');
    const env = main.locals.hub_environment as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual(
      [
        'HUB_DRIVER',
        'HUB_AUTH',
        'HUB_URL',
        'HUB_ADMINS',
        'HUB_ALLOWED_DOMAINS',
        'HUB_ALLOWED_USERS',
        'HUB_SCHEDULER_SA',
        'GOOGLE_CLOUD_PROJECT',
        'HUB_ZONE',
        'HUB_ALLOWED_ZONES',
        'HUB_ALLOWED_MACHINE_TYPES',
        'HUB_DEFAULT_MACHINE_TYPE',
        'HUB_WORKSPACE_IMAGE',
        'HUB_WORKSPACE_SA',
        'HUB_AGENT_PORT',
        'HUB_EGRESS_RANGES',
        'HUB_WORKSPACE_SECRET_NAMES',
        'HUB_NETWORK',
        'HUB_SUBNETWORK',
        'HUB_WORKSPACE_EXTERNAL_IP',
        'HUB_IDLE_TIMEOUT_MINUTES',
        'HUB_MAX_EXTEND_MINUTES',
        'HUB_RETENTION_DAYS',
        'HUB_EVENTS_RETENTION_DAYS',
        'HUB_SUSPENDED_LIMIT_ACTION',
        'HUB_MAX_WORKSPACES_PER_USER',
      ].sort(),
    );
    expect(env).toMatchObject({
      HUB_DRIVER: 'gce',
      HUB_AUTH: '${var.hub_auth}',
      HUB_URL: '${local.hub_public_url}',
      HUB_SCHEDULER_SA: '${google_service_account.scheduler_sa.email}',
      HUB_WORKSPACE_SA: '${google_service_account.workspace_sa.email}',
      // The agent listens where the IAP firewall rule lets the tunnel in.
      HUB_AGENT_PORT: '${tostring(var.agent_port)}',
      HUB_WORKSPACE_SECRET_NAMES: '${join(",", var.workspace_secret_names)}',
    });
    expect(variables.hub_auth?.default).toBe('cloud-run-iam');
    // id-token cannot pass Cloud Run's invoker check intact: the plan refuses it and says why.
    const [authRule] = variables.hub_auth!.validation as Block[];
    expect(authRule!.condition).toBe('${var.hub_auth == "cloud-run-iam"}');
    expect(authRule!.error_message).toMatch(
      /remove the signature.*gcloud's client id as audience/s,
    );
    const container = (template.containers as Block[])[0]!;
    expect(container.image).toBe('${var.hub_image}');
    expect((container.dynamic as Block).env).toMatchObject({
      for_each: '${local.hub_environment_set}',
    });
    expect(main.locals.hub_public_url).toContain(
      'https://${var.service_name}-${data.google_project.this_project.number}.${var.region}.run.app',
    );
  });

  it('fails the plan on settings the hub would refuse at start-up', () => {
    const lifecycle = resource('google_cloud_run_v2_service', 'hub').lifecycle as {
      precondition: Array<{ condition: string; error_message: string }>;
    };
    const conditions = lifecycle.precondition.map((rule) => rule.condition).join('\n');
    expect(conditions).toContain('contains(var.allowed_zones, var.zone)');
    expect(conditions).toContain('contains(var.allowed_machine_types, var.default_machine_type)');
    expect((variables.workspace_image!.validation as Block[])[0]!.condition).toContain(
      '-docker[.]pkg[.]dev',
    );
  });

  it('lets only the team, the Scheduler account and the workspace agents invoke the hub', () => {
    expect(resource('google_cloud_run_v2_service_iam_member', 'hub_invoker_team')).toMatchObject({
      for_each: '${toset(var.team_members)}',
      role: 'roles/run.invoker',
      member: '${each.value}',
    });
    expect(
      resource('google_cloud_run_v2_service_iam_member', 'hub_invoker_scheduler'),
    ).toMatchObject({
      role: 'roles/run.invoker',
      member: '${google_service_account.scheduler_sa.member}',
    });
    expect(
      resource('google_cloud_run_v2_service_iam_member', 'hub_invoker_workspace'),
    ).toMatchObject({
      role: 'roles/run.invoker',
      member: '${google_service_account.workspace_sa.member}',
    });
    const hubInvokers = Object.keys(main.resource.google_cloud_run_v2_service_iam_member!).filter(
      (name) => name.startsWith('hub_'),
    );
    expect(hubInvokers.sort()).toEqual([
      'hub_invoker_scheduler',
      'hub_invoker_team',
      'hub_invoker_workspace',
    ]);
    expect(resource('google_cloud_run_v2_service', 'hub').custom_audiences).toContain(
      'var.hub_url',
    );
    const validation = (variables.team_members!.validation as Block[])[0]!;
    expect(validation.condition).toContain('allUsers');
  });

  it('gives workspaces no external IP by default: egress through Cloud NAT, Google APIs privately', () => {
    expect(variables.workspace_external_ip?.default).toBe(false);
    const env = main.locals.hub_environment as Record<string, string>;
    expect(env.HUB_WORKSPACE_EXTERNAL_IP).toBe('${var.workspace_external_ip ? "true" : "false"}');
    expect(env.HUB_NETWORK).toBe('${local.workspace_network_name}');
    expect(env.HUB_SUBNETWORK).toBe('${local.workspace_subnetwork_name}');
    // Made unless the caller names an existing network (its egress is then the caller's).
    expect(variables.network?.default).toBe('');
    const whenCreated = '${var.network == "" ? 1 : 0}';
    expect(resource('google_compute_network', 'workspace_network')).toMatchObject({
      count: whenCreated,
      auto_create_subnetworks: false,
    });
    expect(resource('google_compute_subnetwork', 'workspace_subnet')).toMatchObject({
      count: whenCreated,
      region: '${var.region}',
      private_ip_google_access: true,
    });
    expect(resource('google_compute_router_nat', 'workspace_nat')).toMatchObject({
      count: whenCreated,
      router: '${google_compute_router.workspace_router[0].name}',
      source_subnetwork_ip_ranges_to_nat: 'LIST_OF_SUBNETWORKS',
      subnetwork: [
        {
          name: '${google_compute_subnetwork.workspace_subnet[0].id}',
          source_ip_ranges_to_nat: ['ALL_IP_RANGES'],
        },
      ],
    });
    expect(main.locals.workspace_network_name).toBe(
      '${var.network != "" ? var.network : google_compute_network.workspace_network[0].name}',
    );
    // Ingress: IAP to the agent port, and the hub's own egress subnet to the same port.
    expect(resourcesOf('google_compute_firewall')).toHaveLength(2);
  });

  it('reaches workspace agents through Direct VPC egress from a subnet of its own, to the agent port only', () => {
    const template = resource('google_cloud_run_v2_service', 'hub').template as Block;
    expect(template.vpc_access).toEqual({
      egress: 'PRIVATE_RANGES_ONLY',
      network_interfaces: [
        {
          network: '${local.workspace_network_name}',
          subnetwork: '${local.hub_egress_subnetwork_name}',
        },
      ],
    });
    expect(resource('google_compute_subnetwork', 'hub_egress_subnet')).toMatchObject({
      ip_cidr_range: '${var.hub_egress_range}',
      region: '${var.region}',
      network: '${google_compute_network.workspace_network[0].id}',
    });
    // Apart from the workspaces' subnet: a workspace cannot reach another's agent this way.
    expect(variables.hub_egress_range?.default).not.toBe(variables.subnet_range?.default);
    expect(resource('google_compute_firewall', 'hub_to_agent')).toMatchObject({
      direction: 'INGRESS',
      source_ranges: ['${local.hub_egress_source_range}'],
      target_tags: ['workspace-hub'],
      allow: [{ protocol: 'tcp', ports: ['${tostring(var.agent_port)}'] }],
    });
    expect(main.locals.hub_egress_source_range).toBe(
      '${var.network != "" ? data.google_compute_subnetwork.existing_hub_egress_subnet[0].ip_cidr_range : var.hub_egress_range}',
    );
    // The same range reaches each VM's host firewall through the hub's configuration.
    expect((main.locals.hub_environment as Record<string, string>).HUB_EGRESS_RANGES).toBe(
      '${local.hub_egress_source_range}',
    );
  });

  it('sizes the hub from its measured memory, with startup CPU boost', () => {
    const container = (
      resource('google_cloud_run_v2_service', 'hub').template as { containers: Block[] }
    ).containers[0]!;
    expect(container.resources).toEqual({
      limits: { memory: '${var.hub_memory}', cpu: '${var.hub_cpu}' },
      cpu_idle: true,
      startup_cpu_boost: true,
    });
    expect(variables.hub_cpu?.default).toBe('1');
  });

  it('calls POST /cleanup on schedule with an OIDC token for the hub URL', () => {
    const job = resource('google_cloud_scheduler_job', 'cleanup');
    expect(job.schedule).toBe('${var.cleanup_schedule}');
    expect(job.http_target).toEqual({
      http_method: 'POST',
      uri: '${local.hub_public_url}/cleanup',
      oidc_token: {
        audience: '${local.hub_public_url}',
        service_account_email: '${google_service_account.scheduler_sa.email}',
      },
    });
  });

  it('opens only the agent port, only to IAP, only on workspace VMs, and lets the team tunnel', () => {
    expect(resource('google_compute_firewall', 'iap_to_agent')).toMatchObject({
      direction: 'INGRESS',
      network: '${local.workspace_network_name}',
      source_ranges: ['35.235.240.0/20'],
      target_tags: ['workspace-hub'],
      allow: [{ protocol: 'tcp', ports: ['${tostring(var.agent_port)}'] }],
    });
    expect(variables.agent_port?.default).toBe(2222);
    expect(resource('google_iap_tunnel_iam_member', 'team_iap_tunnel')).toMatchObject({
      for_each: '${toset(var.team_members)}',
      role: 'roles/iap.tunnelResourceAccessor',
      member: '${each.value}',
    });
  });

  it('deploys the reconcile function with one audit-log trigger per instance method', () => {
    const fn = resource('google_cloudfunctions2_function', 'reconcile');
    expect(fn.build_config).toMatchObject({
      runtime: 'nodejs22',
      entry_point: 'reconcileFromAuditLog',
      source: {
        storage_source: {
          bucket: '${var.function_source_bucket}',
          object: '${var.function_source_object}',
        },
      },
    });
    expect((fn.service_config as Block).service_account_email).toBe(
      '${google_service_account.reconcile_sa.email}',
    );
    const triggers = resourcesOf('google_eventarc_trigger');
    const methods = triggers.map((trigger) => {
      const criteria = Object.fromEntries(
        (trigger.matching_criteria as Array<{ attribute: string; value: string }>).map((c) => [
          c.attribute,
          c.value,
        ]),
      );
      expect(criteria.type).toBe('google.cloud.audit.log.v1.written');
      expect(criteria.serviceName).toBe('compute.googleapis.com');
      expect(trigger.service_account).toBe('${google_service_account.reconcile_sa.email}');
      expect(trigger.destination).toEqual({
        cloud_run_service: {
          service: '${google_cloudfunctions2_function.reconcile.name}',
          region: '${google_cloudfunctions2_function.reconcile.location}',
        },
      });
      return criteria.methodName;
    });
    for (const verb of ['insert', 'delete', 'start', 'stop', 'suspend', 'resume']) {
      expect(methods).toContain(`v1.compute.instances.${verb}`);
    }
    for (const event of ['preempted', 'hostError', 'guestTerminate']) {
      expect(methods).toContain(`compute.instances.${event}`);
    }
    expect(methods.some((method) => method?.startsWith('compute.instances.repair.'))).toBe(true);
  });

  it('never grants to allUsers and never grants a primitive role', () => {
    const all = Object.values(synthesized).join('\n');
    const grants = Object.entries(main.resource)
      .filter(([type]) => type.endsWith('_iam_member'))
      .flatMap(([, byName]) => Object.values(byName));
    expect(grants.length).toBeGreaterThan(10);
    for (const grant of grants) {
      expect(grant.member).not.toMatch(/allUsers|allAuthenticatedUsers/);
      expect(grant.role).not.toMatch(/^roles\/(owner|editor|viewer)$/);
    }
    expect(all).not.toMatch(/"member": "allUsers"|"roles\/(owner|editor|viewer)"/);
  });

  it('exposes the hub URL, the service accounts and the registry', () => {
    expect(Object.keys(outputs).sort()).toEqual([
      'hub_service_account',
      'hub_url',
      'reconcile_service_account',
      'registry',
      'scheduler_service_account',
      'workspace_service_account',
    ]);
  });
});

describe('the module README', () => {
  let readme: string;
  beforeAll(async () => {
    readme = await readFile(`${moduleDir}README.md`, 'utf8');
  });

  it('documents every variable and output', () => {
    const undocumented = [...Object.keys(variables), ...Object.keys(outputs)].filter(
      (name) => !readme.includes(`| \`${name}\``),
    );
    expect(undocumented).toEqual([]);
  });

  it('has a usage block, the idle cost and the first deploy', () => {
    expect(readme).toMatch(/```hcl\nmodule "workspace_hub" \{/);
    expect(readme).toMatch(/## What it costs when idle/);
    expect(readme).toMatch(/terraform apply/);
    expect(readme).toMatch(/wsh login/);
  });

  it('deploys with one terraform apply and images built for linux/amd64, with or without Docker', async () => {
    expect(readme).not.toMatch(/terraform apply -target/);
    expect(readme.match(/terraform apply/g)?.length).toBeGreaterThan(0);
    const dockerBuilds = readme.match(/docker build[^\n]*/g) ?? [];
    expect(dockerBuilds.length).toBe(2);
    for (const line of dockerBuilds) expect(line).toContain('--platform=linux/amd64');
    expect(readme).toMatch(/gcloud builds submit[^`]*--config=cloudbuild\.yaml/);

    const cloudbuild = parseYaml(await readFile(`${moduleDir}../../cloudbuild.yaml`, 'utf8')) as {
      steps: Array<{ name: string; args: string[] }>;
      images: string[];
    };
    const builds = cloudbuild.steps.filter((step) => step.args[0] === 'build');
    expect(builds.map((step) => step.args[step.args.indexOf('-f') + 1]).sort()).toEqual([
      'hub/Dockerfile',
      'vm-agent/Dockerfile',
    ]);
    for (const step of builds) {
      expect(step.args).toContain('--platform=linux/amd64');
      expect(cloudbuild.images).toContain(step.args[step.args.indexOf('-t') + 1]);
    }
  });
});
