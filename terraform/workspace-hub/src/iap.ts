// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform interpolations, not JavaScript templates.
import { ComputeFirewall } from '@cdktf/provider-google/lib/compute-firewall/index.js';
import { IapTunnelIamMember } from '@cdktf/provider-google/lib/iap-tunnel-iam-member/index.js';
import { TerraformIterator } from 'cdktf';
import type { Construct } from 'constructs';
import type { Apis } from './apis.js';
import type { WorkspaceNetwork } from './network.js';
import type { Variables } from './variables.js';

/** Source range of IAP TCP forwarding: the only way in to a workspace's agent. */
export const IAP_RANGE = '35.235.240.0/20';
/** The gce driver tags every workspace VM with this. */
export const WORKSPACE_NETWORK_TAG = 'workspace-hub';

export function defineIapAccess(
  scope: Construct,
  vars: Variables,
  apis: Apis,
  network: WorkspaceNetwork,
) {
  new ComputeFirewall(scope, 'iap_to_agent', {
    project: vars.project.stringValue,
    name: '${var.service_name}-allow-iap-agent',
    network: network.networkName,
    direction: 'INGRESS',
    sourceRanges: [IAP_RANGE],
    targetTags: [WORKSPACE_NETWORK_TAG],
    allow: [{ protocol: 'tcp', ports: ['${tostring(var.agent_port)}'] }],
    description: 'IAP TCP forwarding to the workspace agent SSH port.',
    dependsOn: [apis.compute],
  });
  // Cloud Run's Direct VPC egress takes any address of its subnet, and ingress rules cannot name
  // Cloud Run by tag or service account: the whole subnet's range, to the agent port only.
  new ComputeFirewall(scope, 'hub_to_agent', {
    project: vars.project.stringValue,
    name: '${var.service_name}-allow-hub-agent',
    network: network.networkName,
    direction: 'INGRESS',
    sourceRanges: [network.hubEgressRange],
    targetTags: [WORKSPACE_NETWORK_TAG],
    allow: [{ protocol: 'tcp', ports: ['${tostring(var.agent_port)}'] }],
    description: 'The hub (Cloud Run Direct VPC egress) to the workspace agent SSH port.',
    dependsOn: [apis.compute],
  });
  const members = TerraformIterator.fromList(vars.teamMembers.listValue);
  // On IAP's tunnels, to the agent's port only: not project-wide, not to other ports (22, RDP).
  new IapTunnelIamMember(scope, 'team_iap_tunnel', {
    forEach: members,
    project: vars.project.stringValue,
    role: 'roles/iap.tunnelResourceAccessor',
    member: members.value,
    condition: {
      title: 'workspace agent port only',
      description: 'IAP TCP forwarding to the vm-agent SSH port.',
      expression: 'destination.port == ${var.agent_port}',
    },
    dependsOn: [apis.iap],
  });
}
