import type { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository/index.js';
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member/index.js';
import { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role/index.js';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member/index.js';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret/index.js';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member/index.js';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account/index.js';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member/index.js';
import { TerraformIterator } from 'cdktf';
import type { Construct } from 'constructs';
import type { Apis } from './apis.js';
import {
  HUB_COMPUTE_PERMISSIONS,
  RECONCILE_COMPUTE_PERMISSIONS,
  WORKSPACE_NAME_PREFIX,
  WORKSPACES_ONLY,
} from './hub-permissions.js';
import type { Variables } from './variables.js';

/** One service account per component, each with only the roles its code needs. */
export function defineIdentities(
  scope: Construct,
  vars: Variables,
  apis: Apis,
  registry: ArtifactRegistryRepository,
) {
  const project = vars.project.stringValue;
  const account = (id: string, accountId: string, displayName: string) =>
    new ServiceAccount(scope, id, {
      project,
      accountId,
      displayName,
      dependsOn: [apis.iam],
    });
  const hub = account('hub_sa', 'workspace-hub', 'Workspace Hub API (Cloud Run)');
  const scheduler = account('scheduler_sa', 'workspace-hub-scheduler', 'Workspace Hub cleanup job');
  const workspace = account('workspace_sa', 'workspace-hub-vm', 'Workspace Hub workspace VMs');
  const reconcile = account(
    'reconcile_sa',
    'workspace-hub-reconcile',
    'Workspace Hub reconcile function',
  );

  const projectRole = (id: string, sa: ServiceAccount, role: string) =>
    new ProjectIamMember(scope, id, { project, role, member: sa.member });
  /** A custom role of exactly `permissions`, granted to `sa` on workspace resources only. */
  const workspaceScopedRole = (
    id: 'hub' | 'reconcile',
    sa: ServiceAccount,
    r: { roleId: string; title: string; description: string; permissions: string[]; scope: string },
  ) => {
    const role = new ProjectIamCustomRole(scope, `${id}_compute_role`, {
      project,
      roleId: r.roleId,
      title: r.title,
      description: r.description,
      permissions: r.permissions,
      dependsOn: [apis.iam],
    });
    new ProjectIamMember(scope, `${id}_workspace_compute`, {
      project,
      role: role.name,
      member: sa.member,
      condition: { title: 'workspace VMs only', description: r.scope, expression: WORKSPACES_ONLY },
    });
  };

  // Not compute.instanceAdmin.v1: that would let the hub change any VM in the project.
  workspaceScopedRole('hub', hub, {
    roleId: 'workspaceHubCompute',
    title: 'Workspace Hub: workspace VMs',
    description:
      'Exactly the Compute Engine calls of the hub (terraform/workspace-hub/src/hub-permissions.ts).',
    permissions: HUB_COMPUTE_PERMISSIONS,
    scope: `Instances and disks named ${WORKSPACE_NAME_PREFIX}* (and what is neither).`,
  });
  projectRole('hub_datastore_user', hub, 'roles/datastore.user');
  // The hub attaches the VM account to instances; it may act as that account and no other.
  new ServiceAccountIamMember(scope, 'hub_acts_as_workspace_sa', {
    serviceAccountId: workspace.name,
    role: 'roles/iam.serviceAccountUser',
    member: hub.member,
  });

  projectRole('workspace_log_writer', workspace, 'roles/logging.logWriter');
  new ArtifactRegistryRepositoryIamMember(scope, 'workspace_registry_reader', {
    project,
    location: registry.location,
    repository: registry.name,
    role: 'roles/artifactregistry.reader',
    member: workspace.member,
  });
  const secretNames = TerraformIterator.fromList(vars.workspaceSecretNames.listValue);
  const secrets = new SecretManagerSecret(scope, 'workspace_secret', {
    forEach: secretNames,
    project,
    secretId: secretNames.value,
    replication: { auto: {} },
    dependsOn: [apis.secretmanager],
  });
  const secretIt = TerraformIterator.fromResources(secrets);
  new SecretManagerSecretIamMember(scope, 'workspace_secret_accessor', {
    forEach: secretIt,
    project,
    secretId: secretIt.getString('secret_id'),
    role: 'roles/secretmanager.secretAccessor',
    member: workspace.member,
  });

  projectRole('reconcile_datastore_user', reconcile, 'roles/datastore.user');
  // Not compute.viewer (every resource of the project): the two reads syncWorkspace makes.
  workspaceScopedRole('reconcile', reconcile, {
    roleId: 'workspaceHubReconcile',
    title: 'Workspace Hub: reconcile reads',
    description: 'The Compute Engine reads of the reconcile function (hub-permissions.ts).',
    permissions: RECONCILE_COMPUTE_PERMISSIONS,
    scope: `Instances named ${WORKSPACE_NAME_PREFIX}* (and what is not an instance).`,
  });

  return { hub, scheduler, workspace, reconcile };
}

export type Identities = ReturnType<typeof defineIdentities>;
