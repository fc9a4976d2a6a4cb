// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform interpolations, not JavaScript templates.
import { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job/index.js';
import type { Construct } from 'constructs';
import type { Apis } from './apis.js';
import type { HubService } from './hub-service.js';
import type { Identities } from './identities.js';
import type { Variables } from './variables.js';

export function defineScheduler(
  scope: Construct,
  vars: Variables,
  apis: Apis,
  ids: Identities,
  hub: HubService,
) {
  return new CloudSchedulerJob(scope, 'cleanup', {
    project: vars.project.stringValue,
    region: vars.region.stringValue,
    name: '${var.service_name}-cleanup',
    description: 'Suspends idle workspaces and repairs stuck transitions (POST /cleanup).',
    schedule: vars.cleanupSchedule.stringValue,
    timeZone: 'Etc/UTC',
    attemptDeadline: '300s',
    retryConfig: { retryCount: 0 },
    httpTarget: {
      httpMethod: 'POST',
      uri: `${hub.hubUrl.asString}/cleanup`,
      // The hub accepts this token because its audience is the hub URL and its email HUB_SCHEDULER_SA.
      oidcToken: { serviceAccountEmail: ids.scheduler.email, audience: hub.hubUrl.asString },
    },
    dependsOn: [apis.cloudscheduler, hub.service],
  });
}
