import { randomBytes } from 'node:crypto';
import { type Firestore, Timestamp } from '@google-cloud/firestore';
import { firestoreCall } from './firestore-calls.js';

export const HUB_CONNECTION_KEYS = 'hub_connection_keys';

/** A public key the hub registered for one of its own SSH connections to one agent. */
export interface HubConnectionKey {
  id: string;
  workspace_id: string;
  /** The user the hub connects for: the agent records this email and device. */
  user_sub: string;
  user_email: string;
  device_id: string;
  /** OpenSSH `ssh-ed25519 AAAA…` line. */
  public_key: string;
  expires_at: Date;
}

/**
 * The hub's per-connection credentials (browser terminal, files): each public key is bound to
 * one user and one workspace, served only to that workspace's agent (`GET
 * /agent/authorized-keys`) until `expires_at`, the field of the collection's TTL policy (which
 * deletes it later; reads never trust that it has). The private key never leaves the hub's
 * memory.
 */
export class HubConnectionKeyStore {
  constructor(private readonly db: Firestore) {}

  async register(key: Omit<HubConnectionKey, 'id'>): Promise<HubConnectionKey> {
    const id = randomBytes(12).toString('base64url');
    await firestoreCall(this.db, () =>
      this.db
        .collection(HUB_CONNECTION_KEYS)
        .doc(id)
        .create({
          ...key,
          expires_at: Timestamp.fromDate(key.expires_at),
          created_at: Timestamp.now(),
        }),
    );
    return { id, ...key };
  }

  /** The workspace's keys not yet expired at `now`. */
  async listValid(workspaceId: string, now: Date): Promise<HubConnectionKey[]> {
    // One equality filter: no composite index to deploy; a workspace holds a handful.
    const snap = await firestoreCall(this.db, () =>
      this.db.collection(HUB_CONNECTION_KEYS).where('workspace_id', '==', workspaceId).get(),
    );
    return snap.docs
      .map((d) => decode(d.id, d.data()))
      .filter((k) => k.expires_at.getTime() > now.getTime());
  }

  /** Removes a key once its connection is authenticated (it is of no further use). */
  async revoke(id: string): Promise<void> {
    await firestoreCall(this.db, () => this.db.collection(HUB_CONNECTION_KEYS).doc(id).delete());
  }
}

function decode(id: string, d: Record<string, unknown>): HubConnectionKey {
  const expires = d.expires_at;
  return {
    id,
    workspace_id: String(d.workspace_id),
    user_sub: String(d.user_sub),
    user_email: String(d.user_email),
    device_id: String(d.device_id),
    public_key: String(d.public_key),
    expires_at: expires instanceof Timestamp ? expires.toDate() : new Date(0),
  };
}
