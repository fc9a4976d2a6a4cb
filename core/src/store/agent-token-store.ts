import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import { firestoreCall } from './firestore-calls.js';

const TOKENS = 'agent_tokens';
const hash = (token: string) => createHash('sha256').update(token).digest();

/** Where a workspace's agent token hash lives (deleted with the workspace document). */
export const agentTokenRef = (db: Firestore, workspaceId: string) =>
  db.collection(TOKENS).doc(workspaceId);

/**
 * Local mode's per-workspace agent credentials. Only the hash is stored; the
 * token itself goes to the agent process's environment and nowhere else.
 */
export class AgentTokenStore {
  constructor(private readonly db: Firestore) {}

  async issue(workspaceId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await firestoreCall(this.db, () =>
      agentTokenRef(this.db, workspaceId).set({ sha256: hash(token).toString('hex') }),
    );
    return token;
  }

  async verify(workspaceId: string, token: string): Promise<boolean> {
    const snap = await firestoreCall(this.db, () => agentTokenRef(this.db, workspaceId).get());
    const stored = snap.exists ? Buffer.from(String(snap.get('sha256')), 'hex') : null;
    return stored !== null && stored.length === 32 && timingSafeEqual(stored, hash(token));
  }
}
