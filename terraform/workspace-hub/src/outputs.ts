import type { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository/index.js';
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import type { HubService } from './hub-service.js';
import type { Identities } from './identities.js';

export function defineOutputs(
  scope: Construct,
  hub: HubService,
  ids: Identities,
  registry: ArtifactRegistryRepository,
) {
  // Construct ids share one namespace with variables (hub_url is both), so outputs get a prefix.
  const out = (name: string, value: string, description: string) =>
    new TerraformOutput(scope, `output_${name}`, { value, description }).overrideLogicalId(name);
  out('hub_url', hub.hubUrl.asString, 'URL of the hub: pass it to `wsh login --hub`.');
  out('hub_service_account', ids.hub.email, 'Service account the hub runs as.');
  out(
    'scheduler_service_account',
    ids.scheduler.email,
    'Service account of the cleanup job (HUB_SCHEDULER_SA).',
  );
  out(
    'workspace_service_account',
    ids.workspace.email,
    'Service account of workspace VMs (HUB_WORKSPACE_SA).',
  );
  out(
    'reconcile_service_account',
    ids.reconcile.email,
    'Service account of the reconcile function.',
  );
  out(
    'registry',
    `\${${registry.fqn}.location}-docker.pkg.dev/\${${registry.fqn}.project}/\${${registry.fqn}.repository_id}`,
    'Artifact Registry path to push images to (REGISTRY/hub:TAG, REGISTRY/workspace:TAG).',
  );
}
