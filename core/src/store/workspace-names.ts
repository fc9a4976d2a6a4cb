import { randomBytes } from 'node:crypto';
import { type Firestore, Timestamp, type Transaction } from '@google-cloud/firestore';
import { HubError } from '../errors.js';
import { nameCandidates } from '../names.js';

/**
 * One document per owner and name, `{owner}:{name}` → the workspace holding
 * the name. Created with `create()` in the same transaction as the workspace
 * (or its rename), so Firestore itself refuses a second holder: uniqueness
 * never rests on a check made before the write.
 */
export const WORKSPACE_NAMES = 'workspace_names';

/** Candidates read per round trip while looking for a free derived name. */
const CANDIDATES_PER_READ = 10;
const CANDIDATE_READS = 5;

/** `/` is the one character a document id cannot hold; `%` is escaped too so the id stays unambiguous. */
const escapeOwner = (ownerId: string) => ownerId.replaceAll('%', '%25').replaceAll('/', '%2F');

export const nameRef = (db: Firestore, ownerId: string, name: string) =>
  db.collection(WORKSPACE_NAMES).doc(`${escapeOwner(ownerId)}:${name}`);

/** Within `tx` (before its writes): whether the owner's `name` is held, and by which workspace. */
export async function nameHolder(
  tx: Transaction,
  db: Firestore,
  ownerId: string,
  name: string,
): Promise<string | null> {
  const snap = await tx.get(nameRef(db, ownerId, name));
  return snap.exists ? String(snap.get('workspace_id')) : null;
}

/**
 * Within `tx` (before its writes): the first of `base`, `base-2`, … the owner
 * has not given to a workspace. Other transactions taking one of these names
 * conflict with this one's reads, so Firestore retries it with fresh reads.
 */
export async function firstFreeName(
  tx: Transaction,
  db: Firestore,
  ownerId: string,
  base: string,
): Promise<string> {
  for (let read = 0; read < CANDIDATE_READS; read++) {
    const names = nameCandidates(base, 1 + read * CANDIDATES_PER_READ, CANDIDATES_PER_READ);
    if (!names.length) break;
    const snaps = await tx.getAll(...names.map((n) => nameRef(db, ownerId, n)));
    const free = snaps.findIndex((s) => !s.exists);
    if (free >= 0) return names[free]!;
  }
  // Fifty taken: a random suffix, still reserved by create() like any other.
  return `${base.slice(0, 52).replace(/-+$/, '')}-${randomBytes(4).toString('hex')}`;
}

/** Within `tx`: holds `name` for the workspace; the commit fails if anyone holds it already. */
export function reserveName(
  tx: Transaction,
  db: Firestore,
  ws: { id: string; owner_id: string; name: string },
): void {
  tx.create(nameRef(db, ws.owner_id, ws.name), {
    owner_id: ws.owner_id,
    name: ws.name,
    workspace_id: ws.id,
    created_at: Timestamp.now(),
  });
}

/** ALREADY_EXISTS: a `create()` found its document there (the name was taken meanwhile). */
export function isAlreadyExists(err: unknown): boolean {
  return (err as { code?: number }).code === 6;
}

export function nameTaken(name: string): HubError {
  return new HubError('conflict', `name: ${name} is already the name of one of your workspaces`, {
    field: 'name',
  });
}
