// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform interpolations, not JavaScript templates.
import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network/index.js';
import { ComputeRouter } from '@cdktf/provider-google/lib/compute-router/index.js';
import { ComputeRouterNat } from '@cdktf/provider-google/lib/compute-router-nat/index.js';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork/index.js';
import { DataGoogleComputeSubnetwork } from '@cdktf/provider-google/lib/data-google-compute-subnetwork/index.js';
import { TerraformLocal, Token } from 'cdktf';
import type { Construct } from 'constructs';
import type { Apis } from './apis.js';
import type { Variables } from './variables.js';

/** One when the module makes the workspaces' network (network = ""), else zero. */
const WHEN_CREATED = Token.asNumber('${var.network == "" ? 1 : 0}');

/**
 * Workspace VMs have no external IP by default, so they need another way out
 * (the hub's URL, Artifact Registry, Secret Manager). Unless the caller names
 * an existing network (whose egress is then theirs to provide), the module
 * makes one: a subnet in `region` with Private Google Access and a Cloud
 * Router with Cloud NAT. Ingress stays IAP only (iap.ts).
 */
export function defineNetwork(scope: Construct, vars: Variables, apis: Apis) {
  const project = vars.project.stringValue;
  const name = '${var.service_name}-workspaces';
  const network = new ComputeNetwork(scope, 'workspace_network', {
    count: WHEN_CREATED,
    project,
    name,
    autoCreateSubnetworks: false,
    description: 'Workspace Hub workspace VMs: IAP ingress only, egress through Cloud NAT.',
    dependsOn: [apis.compute],
  });
  const subnet = new ComputeSubnetwork(scope, 'workspace_subnet', {
    count: WHEN_CREATED,
    project,
    name,
    region: vars.region.stringValue,
    network: `\${${network.fqn}[0].id}`,
    ipCidrRange: vars.subnetRange.stringValue,
    // Google APIs (Artifact Registry, Secret Manager, logging) without leaving Google's network.
    privateIpGoogleAccess: true,
  });
  const router = new ComputeRouter(scope, 'workspace_router', {
    count: WHEN_CREATED,
    project,
    name,
    region: vars.region.stringValue,
    network: `\${${network.fqn}[0].id}`,
  });
  new ComputeRouterNat(scope, 'workspace_nat', {
    count: WHEN_CREATED,
    project,
    name,
    region: vars.region.stringValue,
    router: `\${${router.fqn}[0].name}`,
    natIpAllocateOption: 'AUTO_ONLY',
    sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
    subnetwork: [{ name: `\${${subnet.fqn}[0].id}`, sourceIpRangesToNat: ['ALL_IP_RANGES'] }],
  });
  // The hub's Direct VPC egress gets a subnet of its own: the firewall lets only its range reach
  // the agent port, so workspaces cannot reach each other's agents the same way.
  const hubEgress = new ComputeSubnetwork(scope, 'hub_egress_subnet', {
    count: WHEN_CREATED,
    project,
    name: '${var.service_name}-hub-egress',
    region: vars.region.stringValue,
    network: `\${${network.fqn}[0].id}`,
    ipCidrRange: vars.hubEgressRange.stringValue,
    privateIpGoogleAccess: true,
  });
  const existingHubEgress = new DataGoogleComputeSubnetwork(scope, 'existing_hub_egress_subnet', {
    count: Token.asNumber('${var.network != "" ? 1 : 0}'),
    project,
    region: vars.region.stringValue,
    name: '${strcontains(var.hub_egress_subnetwork, "/") ? null : var.hub_egress_subnetwork}',
    selfLink: '${strcontains(var.hub_egress_subnetwork, "/") ? var.hub_egress_subnetwork : null}',
  });
  const hubEgressSubnetwork = new TerraformLocal(
    scope,
    'hub_egress_subnetwork_name',
    `\${var.network != "" ? var.hub_egress_subnetwork : ${hubEgress.fqn}[0].name}`,
  );
  const hubEgressRange = new TerraformLocal(
    scope,
    'hub_egress_source_range',
    `\${var.network != "" ? ${existingHubEgress.fqn}[0].ip_cidr_range : var.hub_egress_range}`,
  );
  const networkName = new TerraformLocal(
    scope,
    'workspace_network_name',
    `\${var.network != "" ? var.network : ${network.fqn}[0].name}`,
  );
  const subnetworkName = new TerraformLocal(
    scope,
    'workspace_subnetwork_name',
    `\${var.network != "" ? var.subnetwork : ${subnet.fqn}[0].name}`,
  );
  return {
    networkName: networkName.asString,
    subnetworkName: subnetworkName.asString,
    hubEgressSubnetwork: hubEgressSubnetwork.asString,
    hubEgressRange: hubEgressRange.asString,
  };
}

export type WorkspaceNetwork = ReturnType<typeof defineNetwork>;
