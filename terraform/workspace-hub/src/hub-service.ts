// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform interpolations, not JavaScript templates.
import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service/index.js';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member/index.js';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project/index.js';
import { Fn, TerraformIterator, TerraformLocal, Token } from 'cdktf';
import type { Construct } from 'constructs';
import type { Apis } from './apis.js';
import type { Identities } from './identities.js';
import type { WorkspaceNetwork } from './network.js';
import type { Variables } from './variables.js';

/** Renders a number variable as an env value, or "" (unset) when it is 0; anything else reaches the hub. */
const zeroUnsets = (name: string) => `\${var.${name} != 0 ? tostring(var.${name}) : ""}`;

export function defineHubService(
  scope: Construct,
  vars: Variables,
  apis: Apis,
  ids: Identities,
  network: WorkspaceNetwork,
) {
  const project = new DataGoogleProject(scope, 'this_project', {
    projectId: vars.project.stringValue,
  });
  // The service's own uri attribute would make HUB_URL depend on the service it configures;
  // Cloud Run's deterministic URL is known before the service exists.
  const hubUrl = new TerraformLocal(
    scope,
    'hub_public_url',
    `\${var.hub_url != "" ? trimsuffix(var.hub_url, "/") : "https://\${var.service_name}-\${${project.fqn}.number}.\${var.region}.run.app"}`,
  );
  const environment = new TerraformLocal(scope, 'hub_environment', {
    HUB_DRIVER: 'gce',
    HUB_AUTH: vars.hubAuth.stringValue,
    HUB_URL: hubUrl.asString,
    HUB_ADMINS: Fn.join(',', vars.admins.listValue),
    HUB_ALLOWED_DOMAINS: Fn.join(',', vars.allowedDomains.listValue),
    HUB_ALLOWED_USERS: Fn.join(',', vars.allowedUsers.listValue),
    HUB_SCHEDULER_SA: ids.scheduler.email,
    GOOGLE_CLOUD_PROJECT: vars.project.stringValue,
    HUB_ZONE: vars.zone.stringValue,
    HUB_ALLOWED_ZONES: Fn.join(',', vars.allowedZones.listValue),
    HUB_ALLOWED_MACHINE_TYPES: Fn.join(',', vars.allowedMachineTypes.listValue),
    HUB_DEFAULT_MACHINE_TYPE: vars.defaultMachineType.stringValue,
    HUB_WORKSPACE_IMAGE: vars.workspaceImage.stringValue,
    HUB_WORKSPACE_SA: ids.workspace.email,
    HUB_AGENT_PORT: '${tostring(var.agent_port)}',
    HUB_EGRESS_RANGES: network.hubEgressRange,
    HUB_WORKSPACE_SECRET_NAMES: Fn.join(',', vars.workspaceSecretNames.listValue),
    HUB_NETWORK: network.networkName,
    HUB_SUBNETWORK: network.subnetworkName,
    HUB_WORKSPACE_EXTERNAL_IP: '${var.workspace_external_ip ? "true" : "false"}',
    HUB_IDLE_TIMEOUT_MINUTES: '${tostring(var.idle_timeout_minutes)}',
    HUB_MAX_EXTEND_MINUTES: '${tostring(var.max_extend_minutes)}',
    HUB_RETENTION_DAYS: zeroUnsets('retention_days'),
    HUB_EVENTS_RETENTION_DAYS: '${tostring(var.events_retention_days)}',
    HUB_SUSPENDED_LIMIT_ACTION: vars.suspendedLimitAction.stringValue,
    HUB_MAX_WORKSPACES_PER_USER: zeroUnsets('max_workspaces_per_user'),
  });
  // The hub treats an empty variable as invalid, so empty settings are left unset instead.
  const nonEmptyEnvironment = new TerraformLocal(
    scope,
    'hub_environment_set',
    `\${ { for k, v in ${environment.fqn} : k => v if v != "" } }`,
  );

  const service = new CloudRunV2Service(scope, 'hub', {
    project: vars.project.stringValue,
    location: vars.region.stringValue,
    name: vars.serviceName.stringValue,
    ingress: 'INGRESS_TRAFFIC_ALL',
    deletionProtection: false,
    // Cloud Run accepts tokens for its own run.app URLs; a custom hub_url must be added as an audience.
    customAudiences: Token.asList('${var.hub_url != "" ? [trimsuffix(var.hub_url, "/")] : []}'),
    template: {
      serviceAccount: ids.hub.email,
      // Terminal gateway WebSockets and long polls live as long as a request may.
      timeout: '3600s',
      // Direct VPC egress: the hub reaches agents on the VMs' internal IPs (browser terminal,
      // files); everything else (Google APIs) leaves as before.
      vpcAccess: {
        egress: 'PRIVATE_RANGES_ONLY',
        networkInterfaces: [
          { network: network.networkName, subnetwork: network.hubEgressSubnetwork },
        ],
      },
      scaling: { minInstanceCount: 0, maxInstanceCount: vars.hubMaxInstances.numberValue },
    },
    dependsOn: [apis.run],
    // The hub refuses to start on these combinations; failing the plan says why sooner.
    lifecycle: {
      precondition: [
        {
          condition: '${length(var.allowed_zones) == 0 || contains(var.allowed_zones, var.zone)}',
          errorMessage: 'allowed_zones must include zone.',
        },
        {
          condition:
            '${length(var.allowed_machine_types) == 0 || contains(var.allowed_machine_types, var.default_machine_type)}',
          errorMessage: 'allowed_machine_types must include default_machine_type.',
        },
        {
          condition: '${var.network == "" || var.hub_egress_subnetwork != ""}',
          errorMessage:
            'With an existing network, set hub_egress_subnetwork: the subnet in region the hub reaches workspace agents from.',
        },
        {
          condition: '${var.network != "" || var.subnetwork == ""}',
          errorMessage: 'subnetwork names a subnet of an existing network: set network too.',
        },
        {
          // The module's subnet lives in region only; a zone elsewhere would have no subnet.
          condition:
            '${var.network != "" || alltrue([for z in concat([var.zone], var.allowed_zones) : startswith(z, "${var.region}-")])}',
          errorMessage:
            'With the module-made network (network = ""), zone and allowed_zones must be in region.',
        },
      ],
    },
  });

  // CDKTF cannot resolve a dynamic block nested inside `template`, so the container is an override.
  service.addOverride('template.containers', [
    {
      image: vars.hubImage.stringValue,
      ports: { container_port: 8080 },
      // Measured, not guessed: hub/test/memory.test.ts loads the hub with the gce driver and checks
      // twice its resident memory fits hub_memory's default. Startup boost shortens cold starts;
      // cpu_idle bills CPU only while a request is in flight.
      resources: {
        limits: { memory: vars.hubMemory.stringValue, cpu: vars.hubCpu.stringValue },
        cpu_idle: true,
        startup_cpu_boost: true,
      },
      dynamic: {
        env: {
          for_each: nonEmptyEnvironment.fqn,
          content: { name: '${env.key}', value: '${env.value}' },
        },
      },
    },
  ]);

  const members = TerraformIterator.fromList(vars.teamMembers.listValue);
  new CloudRunV2ServiceIamMember(scope, 'hub_invoker_team', {
    forEach: members,
    project: vars.project.stringValue,
    location: service.location,
    name: service.name,
    role: 'roles/run.invoker',
    member: members.value,
  });
  // Agents call /agent/* with their VM's identity token, which Cloud Run checks before the hub sees it.
  new CloudRunV2ServiceIamMember(scope, 'hub_invoker_workspace', {
    project: vars.project.stringValue,
    location: service.location,
    name: service.name,
    role: 'roles/run.invoker',
    member: ids.workspace.member,
  });
  new CloudRunV2ServiceIamMember(scope, 'hub_invoker_scheduler', {
    project: vars.project.stringValue,
    location: service.location,
    name: service.name,
    role: 'roles/run.invoker',
    member: ids.scheduler.member,
  });

  return { service, hubUrl };
}

export type HubService = ReturnType<typeof defineHubService>;
