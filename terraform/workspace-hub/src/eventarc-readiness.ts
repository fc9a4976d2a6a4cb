import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member/index.js';
import { Sleep } from '@cdktf/provider-time/lib/sleep/index.js';
import { TerraformResource } from 'cdktf';
import type { Construct } from 'constructs';
import type { Apis } from './apis.js';
import type { Identities } from './identities.js';
import type { Variables } from './variables.js';

/**
 * IAM changes typically take 2 minutes to propagate (Google's "Access change
 * propagation"); a trigger created sooner fails with "Permission denied while
 * using the Eventarc Service Agent" on a fresh project.
 */
export const IAM_PROPAGATION = '120s';

/**
 * What Eventarc needs before a trigger can be created: its service agent
 * (enabling the API does not create it at once), the receiver role of the
 * triggers' account, and time for both grants to reach Eventarc. Triggers
 * depend on the returned sleep, so one `terraform apply` on a fresh project
 * creates them in order.
 */
export function defineEventarcReadiness(
  scope: Construct,
  vars: Variables,
  apis: Apis,
  ids: Identities,
) {
  const project = vars.project.stringValue;
  // google_project_service_identity exists only in the google-beta provider; CDKTF has no
  // prebuilt binding we ship for it, so the block is written by hand.
  const agent = new TerraformResource(scope, 'eventarc_agent', {
    terraformResourceType: 'google_project_service_identity',
    dependsOn: [apis.eventarc],
  });
  agent.addOverride('provider', 'google-beta');
  agent.addOverride('project', project);
  agent.addOverride('service', 'eventarc.googleapis.com');

  const agentRole = new ProjectIamMember(scope, 'eventarc_agent_role', {
    project,
    role: 'roles/eventarc.serviceAgent',
    member: `serviceAccount:${agent.getStringAttribute('email')}`,
  });
  const receiver = new ProjectIamMember(scope, 'reconcile_event_receiver', {
    project,
    role: 'roles/eventarc.eventReceiver',
    member: ids.reconcile.member,
  });
  return new Sleep(scope, 'eventarc_iam_propagation', {
    createDuration: IAM_PROPAGATION,
    dependsOn: [agentRole, receiver, apis.pubsub],
  });
}
