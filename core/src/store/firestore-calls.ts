import { setTimeout as delay } from 'node:timers/promises';
import type { Firestore } from '@google-cloud/firestore';
import { HubError } from '../errors.js';

/**
 * The calls each Firestore client has under way, so that closing it never cuts one short. The
 * client library retries a failed call for up to a minute, between attempts holding nothing
 * `terminate()` waits for; an attempt it starts after the client was terminated fails in a
 * promise nobody handles ("The client has already been terminated") and the call never settles.
 */
interface ClientCalls {
  readonly pending: Set<Promise<unknown>>;
  closing: Promise<number> | null;
}

const clients = new WeakMap<Firestore, ClientCalls>();

function callsOf(db: Firestore): ClientCalls {
  let calls = clients.get(db);
  if (!calls) {
    calls = { pending: new Set(), closing: null };
    clients.set(db, calls);
  }
  return calls;
}

/**
 * Makes one Firestore call (a read, a commit, a whole transaction) on `db`, known to
 * `closeFirestore` until it settles. Every call of the stores goes through here; once the
 * client is closing, a new call is refused before it reaches the library.
 */
export function firestoreCall<T>(db: Firestore, call: () => Promise<T>): Promise<T> {
  const calls = callsOf(db);
  if (calls.closing)
    return Promise.reject(
      new HubError('upstream_unavailable', 'Firestore is closed: this hub is shutting down'),
    );
  const running = call();
  calls.pending.add(running);
  const settled = () => calls.pending.delete(running);
  running.then(settled, settled);
  return running;
}

/**
 * Closes `db` without leaving a call behind: refuses new calls, waits up to `graceMs` for those
 * under way, then terminates the client. Calls still retrying after that (Firestore
 * unreachable) are abandoned, not cut short: the client is terminated once they end, in the
 * background, so none of them meets it terminated (a process exiting meanwhile just ends them).
 * Resolves with the number of calls abandoned; a second close answers as the first.
 */
export function closeFirestore(
  db: Firestore,
  graceMs: number,
  warn: (message: string, fields: Record<string, unknown>) => void = () => undefined,
): Promise<number> {
  const calls = callsOf(db);
  calls.closing ??= (async () => {
    const ended = Promise.allSettled([...calls.pending]);
    const inTime = await Promise.race([
      ended.then(() => true),
      delay(graceMs, false, { ref: false }),
    ]);
    const terminate = () =>
      db
        .terminate()
        .catch((err: unknown) => warn('closing Firestore failed', { error: String(err) }));
    if (inTime) {
      await terminate();
      return 0;
    }
    void ended.then(terminate);
    return calls.pending.size;
  })();
  return calls.closing;
}
