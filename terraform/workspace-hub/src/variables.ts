import { TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import {
  HUB_URL_RULE,
  SECRET_NAMES_RULE,
  WORKSPACE_IMAGE_RULE,
  wholeNumberRule,
} from './hub-rules.js';

const PRINCIPAL =
  '!contains(["allUsers", "allAuthenticatedUsers"], m) && can(regex("^(user|group|serviceAccount|domain):", m))';

/** Every input of the module; the README documents each one (a test checks that). */
export function defineVariables(scope: Construct) {
  const v = (
    name: string,
    type: string,
    description: string,
    extra: {
      default?: unknown;
      nullable?: boolean;
      validation?: { condition: string; errorMessage: string }[];
    } = {},
  ) =>
    new TerraformVariable(scope, name, {
      type,
      description,
      ...extra,
      // In JSON syntax a bare string is a literal; only an interpolation is evaluated as a condition.
      validation: extra.validation?.map((rule) => ({
        ...rule,
        condition: `\${${rule.condition}}`,
      })),
    });

  return {
    project: v('project', 'string', 'Google Cloud project id to deploy into.'),
    region: v(
      'region',
      'string',
      'Region of Cloud Run, Artifact Registry, Scheduler, the function and (by default) Firestore.',
    ),
    zone: v('zone', 'string', 'Default zone of workspace VMs (HUB_ZONE).'),
    allowedZones: v(
      'allowed_zones',
      'list(string)',
      'Zones users may choose (HUB_ALLOWED_ZONES); empty allows only `zone`.',
      { default: [] },
    ),
    hubImage: v(
      'hub_image',
      'string',
      'Container image of the hub, e.g. REGION-docker.pkg.dev/PROJECT/workspace-hub/hub:TAG.',
    ),
    workspaceImage: v(
      'workspace_image',
      'string',
      'Container image workspace VMs run (HUB_WORKSPACE_IMAGE): the vm-agent image in Artifact Registry.',
      {
        validation: [
          {
            // VMs authenticate to Artifact Registry only (docker-credential-gcr); other registries would not pull.
            condition: WORKSPACE_IMAGE_RULE,
            errorMessage:
              'workspace_image must be an Artifact Registry image with a tag or digest, like REGION-docker.pkg.dev/PROJECT/REPO/workspace:TAG.',
          },
        ],
      },
    ),
    serviceName: v(
      'service_name',
      'string',
      'Name of the Cloud Run service (and prefix of other resource names).',
      { default: 'workspace-hub' },
    ),
    hubUrl: v(
      'hub_url',
      'string',
      'Public URL of the hub (HUB_URL, audience of agent and Scheduler tokens). Empty: the deterministic https://SERVICE-PROJECT_NUMBER.REGION.run.app URL.',
      {
        default: '',
        validation: [
          {
            condition: HUB_URL_RULE,
            errorMessage: 'hub_url must be empty or an https:// (or http://) URL.',
          },
        ],
      },
    ),
    hubAuth: v(
      'hub_auth',
      'string',
      'Identity verifier of the hub (HUB_AUTH). Only cloud-run-iam: the module deploys the hub behind Cloud Run IAM invoker checks.',
      {
        default: 'cloud-run-iam',
        // id-token cannot work behind the invoker check (Cloud Run removes the signature of the
        // token it checked; a second copy from gcloud has gcloud's client id as audience, not the
        // hub URL); iap needs a load balancer and HUB_IAP_AUDIENCE, which this module does not create.
        validation: [
          {
            condition: 'var.hub_auth == "cloud-run-iam"',
            errorMessage:
              "hub_auth must be cloud-run-iam. id-token cannot work here: the module deploys the hub with Cloud Run IAM invoker checks, which remove the signature of the token they check, and the identity tokens users get from gcloud carry gcloud's client id as audience, not the hub URL. iap needs a load balancer this module does not create.",
          },
        ],
      },
    ),
    teamMembers: v(
      'team_members',
      'list(string)',
      'IAM principals (user:, group:, domain:, serviceAccount:) who may call the hub (run.invoker) and tunnel to workspaces through IAP.',
      {
        validation: [
          {
            condition: `alltrue([for m in var.team_members : ${PRINCIPAL}])`,
            errorMessage:
              'team_members must be IAM principals like user:ada@example.com; allUsers and allAuthenticatedUsers are refused.',
          },
        ],
      },
    ),
    admins: v(
      'admins',
      'list(string)',
      'Emails of admins who see and act on every workspace (HUB_ADMINS).',
      { default: [] },
    ),
    allowedDomains: v(
      'allowed_domains',
      'list(string)',
      'Email domains allowed to use the hub, among the team_members Cloud Run lets in (HUB_ALLOWED_DOMAINS); empty: all of them.',
      { default: [] },
    ),
    allowedUsers: v(
      'allowed_users',
      'list(string)',
      'Emails allowed to use the hub besides allowed_domains (HUB_ALLOWED_USERS).',
      { default: [] },
    ),
    allowedMachineTypes: v(
      'allowed_machine_types',
      'list(string)',
      'Machine types users may choose (HUB_ALLOWED_MACHINE_TYPES); empty allows only the default.',
      { default: ['e2-standard-2', 'e2-standard-4', 'e2-standard-8'] },
    ),
    defaultMachineType: v(
      'default_machine_type',
      'string',
      'Machine type of a workspace when none is asked for (HUB_DEFAULT_MACHINE_TYPE).',
      { default: 'e2-standard-4' },
    ),
    idleTimeoutMinutes: v(
      'idle_timeout_minutes',
      'number',
      'Minutes without activity before cleanup suspends a workspace (HUB_IDLE_TIMEOUT_MINUTES).',
      {
        default: 240,
        validation: [
          {
            condition: wholeNumberRule('idle_timeout_minutes', 1),
            errorMessage: 'idle_timeout_minutes must be a whole number of minutes, at least 1.',
          },
        ],
      },
    ),
    maxExtendMinutes: v(
      'max_extend_minutes',
      'number',
      'Longest a user may push a deadline out with extend (HUB_MAX_EXTEND_MINUTES).',
      {
        default: 480,
        validation: [
          {
            condition: wholeNumberRule('max_extend_minutes', 1),
            errorMessage: 'max_extend_minutes must be a whole number of minutes, at least 1.',
          },
        ],
      },
    ),
    retentionDays: v(
      'retention_days',
      'number',
      'Days a suspended workspace is kept before cleanup deletes it (HUB_RETENTION_DAYS); 0 keeps them forever.',
      {
        default: 0,
        validation: [
          {
            condition: wholeNumberRule('retention_days', 1, undefined, true),
            errorMessage: 'retention_days must be 0 (keep forever) or a whole number of days.',
          },
        ],
      },
    ),
    eventsRetentionDays: v(
      'events_retention_days',
      'number',
      "Days a workspace's events are kept (HUB_EVENTS_RETENTION_DAYS, for the hub and the reconcile function); Firestore's TTL policy on the events collection group deletes them after.",
      {
        default: 30,
        validation: [
          {
            condition: wholeNumberRule('events_retention_days', 1),
            errorMessage: 'events_retention_days must be a whole number of days, at least 1.',
          },
        ],
      },
    ),
    suspendedLimitAction: v(
      'suspended_limit_action',
      'string',
      'What cleanup does with a workspace suspended for 59 days, a day before Compute Engine terminates a suspended VM (HUB_SUSPENDED_LIMIT_ACTION): "stop" resumes it and shuts it down cleanly, "delete" deletes it.',
      {
        default: 'stop',
        validation: [
          {
            condition: 'contains(["stop", "delete"], var.suspended_limit_action)',
            errorMessage: 'suspended_limit_action must be "stop" or "delete".',
          },
        ],
      },
    ),
    maxWorkspacesPerUser: v(
      'max_workspaces_per_user',
      'number',
      'Workspaces one user may own (HUB_MAX_WORKSPACES_PER_USER); 0 means no limit.',
      {
        default: 0,
        validation: [
          {
            condition: wholeNumberRule('max_workspaces_per_user', 1, undefined, true),
            errorMessage: 'max_workspaces_per_user must be 0 (no limit) or a whole number.',
          },
        ],
      },
    ),
    cleanupSchedule: v(
      'cleanup_schedule',
      'string',
      'Cron schedule (UTC) of the Scheduler job that calls POST /cleanup.',
      { default: '*/5 * * * *' },
    ),
    network: v(
      'network',
      'string',
      'Existing VPC network of workspace VMs (HUB_NETWORK), whose egress you provide. Empty: the module creates one with a subnet in region, Private Google Access and Cloud NAT.',
      { default: '' },
    ),
    subnetwork: v(
      'subnetwork',
      'string',
      'Subnetwork of workspace VMs in an existing network (HUB_SUBNETWORK); empty lets Compute Engine choose (auto-mode networks).',
      { default: '' },
    ),
    subnetRange: v(
      'subnet_range',
      'string',
      'IP range of the subnet the module creates when network is empty.',
      {
        default: '10.20.0.0/20',
        validation: [
          {
            condition: 'can(cidrhost(var.subnet_range, 0))',
            errorMessage: 'subnet_range must be a CIDR range like 10.20.0.0/20.',
          },
        ],
      },
    ),
    hubEgressRange: v(
      'hub_egress_range',
      'string',
      'IP range of the subnet the module creates, when network is empty, for the hub’s Direct VPC egress to workspace agents (browser terminal, files); /26 or larger (Cloud Run takes addresses 16 at a time).',
      {
        default: '10.20.16.0/26',
        validation: [
          {
            condition:
              'can(cidrhost(var.hub_egress_range, 0)) && tonumber(split("/", var.hub_egress_range)[1]) <= 26',
            errorMessage:
              'hub_egress_range must be a CIDR range of /26 or larger, like 10.20.16.0/26.',
          },
        ],
      },
    ),
    hubEgressSubnetwork: v(
      'hub_egress_subnetwork',
      'string',
      'With an existing network: the subnet in region (name, or self link for Shared VPC) the hub’s Direct VPC egress takes addresses from; its whole range is let through to the agent port. Keep it apart from the workspaces’ subnet.',
      { default: '' },
    ),
    workspaceExternalIp: v(
      'workspace_external_ip',
      'bool',
      'Give workspace VMs an ephemeral external IP (HUB_WORKSPACE_EXTERNAL_IP). Off by default: they reach Google and the internet through Cloud NAT; ingress is IAP only either way.',
      { default: false },
    ),
    agentPort: v(
      'agent_port',
      'number',
      'TCP port of the vm-agent SSH server (HUB_AGENT_PORT), opened to IAP only.',
      {
        default: 2222,
        validation: [
          {
            // The agent runs as a non-root user; the hub refuses other values too.
            condition: wholeNumberRule('agent_port', 1024, 65535),
            errorMessage: 'agent_port must be a whole number between 1024 and 65535.',
          },
        ],
      },
    ),
    workspaceSecretNames: v(
      'workspace_secret_names',
      'list(string)',
      'Secret Manager secrets (created empty here; add versions yourself) that workspace VMs may read.',
      {
        default: [],
        validation: [
          {
            condition: SECRET_NAMES_RULE,
            errorMessage:
              'workspace_secret_names must be Secret Manager secret ids (letters, digits, _ and -).',
          },
        ],
      },
    ),
    registryName: v('registry_name', 'string', 'Artifact Registry docker repository id.', {
      default: 'workspace-hub',
    }),
    firestoreLocation: v(
      'firestore_location',
      'string',
      'Firestore location (e.g. eur3, nam5); empty uses region.',
      { default: '' },
    ),
    functionSourceBucket: v(
      'function_source_bucket',
      'string',
      'GCS bucket holding the zipped functions package (see the README).',
    ),
    functionSourceObject: v(
      'function_source_object',
      'string',
      'GCS object (zip) of the functions package in function_source_bucket.',
    ),
    hubMemory: v(
      'hub_memory',
      'string',
      'Memory limit of a hub instance on Cloud Run (Mi or Gi).',
      {
        default: '1Gi',
        validation: [
          {
            condition: 'can(regex("^[1-9][0-9]*(Mi|Gi)$", var.hub_memory))',
            errorMessage: 'hub_memory must be like 512Mi or 1Gi.',
          },
        ],
      },
    ),
    hubCpu: v('hub_cpu', 'string', 'vCPUs of a hub instance on Cloud Run.', {
      default: '1',
      validation: [
        {
          condition: 'contains(["1", "2", "4", "8"], var.hub_cpu)',
          errorMessage: 'hub_cpu must be 1, 2, 4 or 8.',
        },
      ],
    }),
    hubMaxInstances: v('hub_max_instances', 'number', 'Upper bound of hub Cloud Run instances.', {
      default: 3,
    }),
  };
}

export type Variables = ReturnType<typeof defineVariables>;
