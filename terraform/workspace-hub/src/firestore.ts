// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform interpolations, not JavaScript templates.
import { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database/index.js';
import { FirestoreField } from '@cdktf/provider-google/lib/firestore-field/index.js';
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

/**
 * Single-field settings (core/src: the stores' collection names; a test checks
 * they agree). `ttl`: Firestore deletes a document once this timestamp field is
 * past. `unindexed`: no query filters or orders on the field, and indexing large
 * strings costs storage and write latency for nothing.
 */
export const FIELD_OVERRIDES: Array<{
  id: string;
  collection: string;
  field: string;
  ttl: boolean;
}> = [
  // A TTL field with ever-increasing values is also exempt: Google advises it against hotspots.
  { id: 'idempotency_expiry', collection: 'idempotency_keys', field: 'expires_at', ttl: true },
  // The hub's per-connection SSH keys (hub/src/agent-link): read only until `expires_at`.
  {
    id: 'hub_connection_key_expiry',
    collection: 'hub_connection_keys',
    field: 'expires_at',
    ttl: true,
  },
  // A workspace's events (`workspaces/{id}/events`: a TTL policy is per collection group) and the
  // markers of removed workspaces whose events are being deleted; both are read by `at`/id only.
  { id: 'events_expiry', collection: 'events', field: 'expires_at', ttl: true },
  {
    id: 'deleted_workspaces_expiry',
    collection: 'deleted_workspaces',
    field: 'expires_at',
    ttl: true,
  },
  { id: 'sync_blob_content', collection: 'sync_blobs', field: 'content', ttl: false },
  { id: 'ssh_key_public_key', collection: 'ssh_keys', field: 'public_key', ttl: false },
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
  // One field change at a time: Firestore runs a database's field operations one by one.
  let previous: FirestoreField | undefined;
  for (const override of FIELD_OVERRIDES) {
    const field: FirestoreField = new FirestoreField(scope, `field_${override.id}`, {
      project: vars.project.stringValue,
      database: database.name,
      collection: override.collection,
      field: override.field,
      dependsOn: previous ? [previous] : [],
    });
    // Empty blocks: index_config {} removes the automatic single-field indexes, ttl_config {}
    // turns TTL on. CDKTF would drop an empty block, so they are written as overrides.
    field.addOverride('index_config', {});
    if (override.ttl) field.addOverride('ttl_config', {});
    previous = field;
  }
  return database;
}
