import { ProjectService } from '@cdktf/provider-google/lib/project-service/index.js';
import type { Construct } from 'constructs';
import type { Variables } from './variables.js';

export const APIS = {
  run: 'run.googleapis.com',
  firestore: 'firestore.googleapis.com',
  compute: 'compute.googleapis.com',
  artifactregistry: 'artifactregistry.googleapis.com',
  cloudscheduler: 'cloudscheduler.googleapis.com',
  iap: 'iap.googleapis.com',
  iam: 'iam.googleapis.com',
  secretmanager: 'secretmanager.googleapis.com',
  eventarc: 'eventarc.googleapis.com',
  // Eventarc's transport: audit-log triggers deliver through a Pub/Sub topic it creates.
  pubsub: 'pubsub.googleapis.com',
  cloudfunctions: 'cloudfunctions.googleapis.com',
  cloudbuild: 'cloudbuild.googleapis.com',
  logging: 'logging.googleapis.com',
} as const;

export type Apis = Record<keyof typeof APIS, ProjectService>;

/** APIs stay enabled on destroy: other things in the project may use them. */
export function enableApis(scope: Construct, vars: Variables): Apis {
  const entries = Object.entries(APIS).map(([key, service]) => [
    key,
    new ProjectService(scope, `api_${key}`, {
      project: vars.project.stringValue,
      service,
      disableOnDestroy: false,
      disableDependentServices: false,
    }),
  ]);
  return Object.fromEntries(entries) as Apis;
}
