import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HubOverOwnFirestore,
  startHubOverOwnFirestore,
} from '../../hub/test/own-firestore.js';

/**
 * Firestore killed and started again while writers keep saving settings
 * (PUT /me/sync/NAME) and retrying what was answered 503. The emulator keeps
 * its data in memory, so writes before the kill go with it (real Firestore
 * keeps them); what is checked is that every answer is 200 or 503 and that,
 * after the restart, each writer's acknowledged writes count its versions
 * exactly: a retry applied twice would skip a version, a lost write would
 * leave an older content.
 */
const AUTH = { authorization: 'Bearer dev:olga@example.com', 'content-type': 'application/json' };
const WRITERS = 4;
const WRITES_AFTER = 5;
const TIMEOUT = 240_000;

let own: HubOverOwnFirestore;

beforeAll(async () => {
  own = await startHubOverOwnFirestore('fault-firestore');
}, TIMEOUT);

afterAll(() => own?.close());

interface Answer {
  status: number;
  body: { version?: number; content?: string; etag?: string };
}

async function call(
  method: string,
  name: string,
  body?: unknown,
  ifMatch?: string,
): Promise<Answer> {
  const res = await fetch(`${own.hub.url}/me/sync/${name}`, {
    method,
    headers: ifMatch ? { ...AUTH, 'if-match': ifMatch } : AUTH,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

describe('Firestore killed and restarted under traffic', () => {
  it(
    'answers 503 meanwhile, recovers, and counts every acknowledged write once',
    async () => {
      let phase: 'before' | 'down' | 'after' = 'before';
      const statuses = new Map<number, number>();
      /** Per writer: versions answered after the restart, in order, and the last content acknowledged. */
      const after = Array.from({ length: WRITERS }, () => ({ versions: [] as number[], last: '' }));

      const writer = async (w: number) => {
        let etag: string | undefined;
        for (let n = 0; after[w]!.versions.length < WRITES_AFTER; ) {
          const content = `writer-${w}-write-${n}`;
          const startedIn = phase;
          let r = await call('PUT', `w${w}`, { content }, etag);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 503) {
            await new Promise((res) => setTimeout(res, 200));
            continue; // the same write again, with the same If-Match
          }
          if (r.status === 412 || r.status === 404) {
            // Refused: an earlier attempt answered 503 may have landed after all (then it is
            // there, once), or the restarted emulator has forgotten the blob (then create it).
            const current = await call('GET', `w${w}`);
            if (current.status === 200 && current.body.content === content) r = current;
            else if (current.status === 404) {
              etag = undefined;
              continue;
            }
          }
          expect(r.status, JSON.stringify(r.body)).toBe(200);
          etag = r.body.etag;
          n++;
          // Only writes sent once the emulator is back land in the Firestore that stays.
          if (startedIn === 'after') {
            after[w]!.versions.push(r.body.version!);
            after[w]!.last = content;
          }
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));

      await new Promise((r) => setTimeout(r, 1_000));
      phase = 'down';
      await own.stopFirestore();
      // Writers see 503s before Firestore comes back.
      while (!statuses.get(503)) await new Promise((r) => setTimeout(r, 200));
      await own.startFirestoreAgain();
      phase = 'after';
      await Promise.all(writers);

      expect(statuses.get(503)).toBeGreaterThan(0);
      expect([...statuses.keys()].filter((c) => ![200, 404, 412, 503].includes(c))).toEqual([]);
      for (let w = 0; w < WRITERS; w++) {
        const { versions, last } = after[w]!;
        // Consecutive: no write applied twice, none skipped.
        expect(versions).toEqual(versions.map((_, i) => versions[0]! + i));
        const res = await fetch(`${own.hub.url}/me/sync/w${w}`, { headers: AUTH });
        const blob = (await res.json()) as { version: number; content: string };
        expect({ version: blob.version, content: blob.content }).toEqual({
          version: versions.at(-1),
          content: last,
        });
      }
    },
    TIMEOUT,
  );
});
