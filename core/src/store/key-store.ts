import { type Firestore, Timestamp } from '@google-cloud/firestore';
import type { SshKey } from '@workspace-hub/api';
import { HubError } from '../errors.js';
import { parsePublicKey } from '../keys/ssh-public-key.js';
import { firestoreCall } from './firestore-calls.js';

export const SSH_KEYS = 'ssh_keys';
export const KEY_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Users' SSH public keys, one per device. */
export class KeyStore {
  constructor(private readonly db: Firestore) {}

  private ref(ownerId: string, name: string) {
    return this.db
      .collection(SSH_KEYS)
      .doc(`${Buffer.from(ownerId).toString('base64url')}.${name}`);
  }

  async put(
    owner: { sub: string; email: string },
    name: string,
    publicKey: string,
  ): Promise<SshKey> {
    if (!KEY_NAME_PATTERN.test(name))
      throw new HubError('invalid_argument', 'name: letters, digits, dot, dash, underscore; 1-64', {
        field: 'name',
      });
    const parsed = parsePublicKey(publicKey);
    const key: SshKey = {
      name,
      owner_id: owner.sub,
      owner_email: owner.email,
      public_key: parsed.canonical + (parsed.comment ? ` ${parsed.comment}` : ''),
      fingerprint: parsed.fingerprint,
      created_at: new Date().toISOString(),
    };
    await firestoreCall(this.db, () =>
      this.ref(owner.sub, name).set({ ...key, created_at: Timestamp.now() }),
    );
    return key;
  }

  async get(ownerId: string, name: string): Promise<SshKey | null> {
    const snap = await firestoreCall(this.db, () => this.ref(ownerId, name).get());
    return snap.exists ? decode(snap.data()!) : null;
  }

  async delete(ownerId: string, name: string): Promise<boolean> {
    const ref = this.ref(ownerId, name);
    const snap = await firestoreCall(this.db, () => ref.get());
    if (!snap.exists) return false;
    await firestoreCall(this.db, () => ref.delete());
    return true;
  }

  async listByOwner(ownerId: string): Promise<SshKey[]> {
    const snap = await firestoreCall(this.db, () =>
      this.db.collection(SSH_KEYS).where('owner_id', '==', ownerId).get(),
    );
    return snap.docs.map((d) => decode(d.data())).sort((a, b) => a.name.localeCompare(b.name));
  }

  async listByEmails(emails: readonly string[]): Promise<SshKey[]> {
    if (emails.length === 0) return [];
    const out: SshKey[] = [];
    for (let i = 0; i < emails.length; i += 30) {
      const snap = await firestoreCall(this.db, () =>
        this.db
          .collection(SSH_KEYS)
          .where('owner_email', 'in', emails.slice(i, i + 30))
          .get(),
      );
      out.push(...snap.docs.map((d) => decode(d.data())));
    }
    return out;
  }
}

function decode(d: Record<string, unknown>): SshKey {
  const t = d.created_at;
  return {
    name: String(d.name),
    owner_id: String(d.owner_id),
    owner_email: String(d.owner_email),
    public_key: String(d.public_key),
    fingerprint: String(d.fingerprint),
    created_at: t instanceof Timestamp ? t.toDate().toISOString() : String(t),
  };
}
