import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';

const TOKENS = 'agent_tokens';
const hash = (token: string) => createHash('sha256').update(token).digest();

/**
 * Local mode's per-workspace agent credentials. Only the hash is stored; the
 * token itself goes to the agent process's environment and nowhere else.
 */
export class AgentTokenStore {
  constructor(private readonly db: Firestore) {}

  async issue(workspaceId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.db
      .collection(TOKENS)
      .doc(workspaceId)
      .set({ sha256: hash(token).toString('hex') });
    return token;
  }

  async verify(workspaceId: string, token: string): Promise<boolean> {
    const snap = await this.db.collection(TOKENS).doc(workspaceId).get();
    const stored = snap.exists ? Buffer.from(String(snap.get('sha256')), 'hex') : null;
    return stored !== null && stored.length === 32 && timingSafeEqual(stored, hash(token));
  }

  async revoke(workspaceId: string): Promise<void> {
    await this.db.collection(TOKENS).doc(workspaceId).delete();
  }
}
