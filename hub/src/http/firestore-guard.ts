import { setTimeout as delay } from 'node:timers/promises';
import { getPath } from 'hono/utils/url';
import type { NodeBindings } from '../env.js';
import type { FirestoreReadiness } from '../firestore-readiness.js';
import type { Logger } from '../log.js';
import { firestoreUnavailable, problemFetchResponse } from './problem.js';

/** A request still unanswered after this long makes the hub check whether Firestore answers. */
export const SLOW_REQUEST_MS = 2_500;
/** Routes that never touch Firestore (or check it themselves). */
const WITHOUT_FIRESTORE = new Set(['/health', '/ready', '/openapi.json']);

/**
 * Answers 503 (problem+json, Retry-After) within seconds when Firestore cannot
 * be reached, instead of after the client library's minute of retries: at once
 * while the last probe said so (and the probe this request joins agrees), or
 * when a slow request's probe finds it gone. A slow request with Firestore up
 * is left to finish. The route abandoned to a 503 ends in the background on
 * the library's own deadline.
 */
export function guardFirestore(
  readiness: FirestoreReadiness,
  handle: (req: Request, env?: NodeBindings) => Promise<Response>,
  log: Logger,
): (req: Request, env?: NodeBindings) => Promise<Response> {
  const unavailable = (req: Request) => {
    log.warn('Firestore unreachable: answered 503', { path: getPath(req) });
    return problemFetchResponse(firestoreUnavailable());
  };
  return async (req, env) => {
    if (WITHOUT_FIRESTORE.has(getPath(req))) return handle(req, env);
    if (readiness.current === 'unavailable' && !(await readiness.check())) return unavailable(req);
    const answer = handle(req, env);
    const settled = answer.then(
      () => true,
      () => true,
    );
    for (;;) {
      const done = await Promise.race([settled, delay(SLOW_REQUEST_MS, false, { ref: false })]);
      if (done) return answer;
      if (!(await readiness.check())) return unavailable(req);
    }
  };
}
