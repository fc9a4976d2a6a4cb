// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform interpolations, not JavaScript templates.
import { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database/index.js';
import { FirestoreIndex } from '@cdktf/provider-google/lib/firestore-index/index.js';
import type { Construct } from 'constructs';
import type { Apis } from './apis.js';
import type { Variables } from './variables.js';

type Order = 'ASCENDING' | 'DESCENDING';

/** The composite indexes behind the hub's list, cleanup and retention queries on `workspaces`. */
export const WORKSPACE_INDEXES: Array<{ id: string; fields: Array<[string, Order]> }> = [
  {
    id: 'owner_created',
    fields: [
      ['owner_id', 'ASCENDING'],
      ['created_at', 'DESCENDING'],
      ['__name__', 'DESCENDING'],
    ],
  },
  {
    id: 'owner_status_created',
    fields: [
      ['owner_id', 'ASCENDING'],
      ['status', 'ASCENDING'],
      ['created_at', 'DESCENDING'],
      ['__name__', 'DESCENDING'],
    ],
  },
  {
    id: 'status_created',
    fields: [
      ['status', 'ASCENDING'],
      ['created_at', 'DESCENDING'],
      ['__name__', 'DESCENDING'],
    ],
  },
  {
    id: 'status_deadline',
    fields: [
      ['status', 'ASCENDING'],
      ['deadline', 'ASCENDING'],
      ['__name__', 'ASCENDING'],
    ],
  },
  {
    id: 'status_updated',
    fields: [
      ['status', 'ASCENDING'],
      ['updated_at', 'ASCENDING'],
      ['__name__', 'ASCENDING'],
    ],
  },
];

export function defineFirestore(scope: Construct, vars: Variables, apis: Apis) {
  // ABANDON: `terraform destroy` must never delete everyone's workspace records.
  const database = new FirestoreDatabase(scope, 'firestore', {
    project: vars.project.stringValue,
    name: '(default)',
    locationId: '${var.firestore_location != "" ? var.firestore_location : var.region}',
    type: 'FIRESTORE_NATIVE',
    deletionPolicy: 'ABANDON',
    dependsOn: [apis.firestore],
  });
  for (const index of WORKSPACE_INDEXES) {
    new FirestoreIndex(scope, `workspaces_${index.id}`, {
      project: vars.project.stringValue,
      database: database.name,
      collection: 'workspaces',
      queryScope: 'COLLECTION',
      fields: index.fields.map(([fieldPath, order]) => ({ fieldPath, order })),
    });
  }
  return database;
}
