import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository/index.js';
import type { Construct } from 'constructs';
import type { Apis } from './apis.js';
import type { Variables } from './variables.js';

export function defineRegistry(scope: Construct, vars: Variables, apis: Apis) {
  return new ArtifactRegistryRepository(scope, 'registry', {
    project: vars.project.stringValue,
    location: vars.region.stringValue,
    repositoryId: vars.registryName.stringValue,
    format: 'DOCKER',
    description: 'Workspace Hub images: the hub and the workspace (vm-agent) image.',
    dependsOn: [apis.artifactregistry],
  });
}
