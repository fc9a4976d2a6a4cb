import { Timestamp } from '@google-cloud/firestore';
import { WORKSPACE_TIME_FIELDS, Workspace } from '@workspace-hub/api';

type Doc = Record<string, unknown>;

function toTimestamp(v: unknown): unknown {
  return typeof v === 'string' ? Timestamp.fromDate(new Date(v)) : v;
}

function fromTimestamp(v: unknown): unknown {
  return v instanceof Timestamp ? v.toDate().toISOString() : v;
}

/** Workspace (ISO strings) → Firestore document (Timestamps). */
export function encodeWorkspace(ws: Partial<Workspace>): Doc {
  const doc: Doc = { ...ws };
  for (const f of WORKSPACE_TIME_FIELDS) if (f in doc) doc[f] = toTimestamp(doc[f]);
  if (ws.agent) doc.agent = { ...ws.agent, ready_at: toTimestamp(ws.agent.ready_at) };
  if (ws.operation)
    doc.operation = { ...ws.operation, started_at: toTimestamp(ws.operation.started_at) };
  return doc;
}

/**
 * The name of a document written before workspaces had names: never a valid
 * name, so nothing resolves to it; the store gives the workspace a real one
 * (WorkspaceStore.mutate, nameUnnamed) before the API shows it.
 */
export const UNNAMED = '';

/** Firestore document → Workspace; a document that does not parse is a bug, so it throws. */
export function decodeWorkspace(doc: Doc): Workspace {
  const out: Doc = { name: UNNAMED, ...doc };
  for (const f of WORKSPACE_TIME_FIELDS) out[f] = fromTimestamp(out[f] ?? null);
  const agent = out.agent as Doc | null | undefined;
  if (agent) out.agent = { ...agent, ready_at: fromTimestamp(agent.ready_at) };
  const op = out.operation as Doc | null | undefined;
  if (op) out.operation = { ...op, started_at: fromTimestamp(op.started_at) };
  return Workspace.parse(out);
}
