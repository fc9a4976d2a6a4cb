// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform interpolations, not JavaScript templates.
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member/index.js';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function/index.js';
import { EventarcTrigger } from '@cdktf/provider-google/lib/eventarc-trigger/index.js';
import type { Sleep } from '@cdktf/provider-time/lib/sleep/index.js';
import type { Construct } from 'constructs';
import type { Apis } from './apis.js';
import type { Identities } from './identities.js';
import type { Variables } from './variables.js';

/**
 * Audit-log methodNames that change an instance's state. Eventarc matches
 * methodName exactly (no wildcards), hence one trigger per method; the
 * system events are the ones Compute Engine logs for host-side changes.
 */
export const INSTANCE_METHODS = [
  'v1.compute.instances.insert',
  'v1.compute.instances.delete',
  'v1.compute.instances.start',
  'v1.compute.instances.stop',
  'v1.compute.instances.suspend',
  'v1.compute.instances.resume',
  'compute.instances.preempted',
  'compute.instances.hostError',
  'compute.instances.guestTerminate',
  'compute.instances.repair.recreateInstance',
] as const;

const slug = (method: string) =>
  method
    .replace(/^v1\.compute\.instances\./, '')
    .replace(/^compute\.instances\./, 'system-')
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .toLowerCase();

export function defineReconcileFunction(
  scope: Construct,
  vars: Variables,
  apis: Apis,
  ids: Identities,
  eventarcReady: Sleep,
) {
  const fn = new Cloudfunctions2Function(scope, 'reconcile', {
    project: vars.project.stringValue,
    location: vars.region.stringValue,
    name: '${var.service_name}-reconcile',
    description: 'Converges workspace documents on Compute Engine audit-log events.',
    buildConfig: {
      runtime: 'nodejs22',
      entryPoint: 'reconcileFromAuditLog',
      source: {
        storageSource: {
          bucket: vars.functionSourceBucket.stringValue,
          object: vars.functionSourceObject.stringValue,
        },
      },
    },
    serviceConfig: {
      serviceAccountEmail: ids.reconcile.email,
      ingressSettings: 'ALLOW_INTERNAL_ONLY',
      // A Kubernetes quantity: 256·10⁶ bytes. functions/test/package.test.ts holds the packaged
      // bundle's peak RSS on its first event (≈120 MiB: reads by plain REST, no Compute client) ×1.5 to it.
      availableMemory: '256M',
      timeoutSeconds: 60,
      minInstanceCount: 0,
      maxInstanceCount: 3,
      environmentVariables: {
        GOOGLE_CLOUD_PROJECT: vars.project.stringValue,
        // Its events expire like the hub's.
        HUB_EVENTS_RETENTION_DAYS: '${tostring(var.events_retention_days)}',
      },
    },
    dependsOn: [apis.cloudfunctions, apis.cloudbuild, apis.run, apis.artifactregistry],
  });

  // Eventarc delivers to the function's Cloud Run service as the reconcile account.
  const invoker = new CloudRunV2ServiceIamMember(scope, 'reconcile_invoker', {
    project: vars.project.stringValue,
    location: fn.location,
    name: fn.name,
    role: 'roles/run.invoker',
    member: ids.reconcile.member,
  });

  for (const method of INSTANCE_METHODS) {
    new EventarcTrigger(scope, `reconcile_on_${slug(method).replaceAll('-', '_')}`, {
      project: vars.project.stringValue,
      // Workspaces may live in any allowed zone, so the triggers listen project-wide.
      location: 'global',
      name: `\${var.service_name}-${slug(method)}`,
      serviceAccount: ids.reconcile.email,
      matchingCriteria: [
        { attribute: 'type', value: 'google.cloud.audit.log.v1.written' },
        { attribute: 'serviceName', value: 'compute.googleapis.com' },
        { attribute: 'methodName', value: method },
      ],
      destination: { cloudRunService: { service: fn.name, region: fn.location } },
      // Created only once Eventarc's agent and the receiver grant exist and have propagated.
      dependsOn: [apis.eventarc, invoker, eventarcReady],
    });
  }
  return fn;
}
