import { testFirestore } from '@workspace-hub/testing/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { OrphanStore } from './orphan-store.js';

const { db } = testFirestore();
const orphans = new OrphanStore(db);
afterAll(() => db.terminate());

describe('OrphanStore', () => {
  it('remembers when each orphan was first seen until it is forgotten', async () => {
    await orphans.markFirstSeen('europe-west1-b', 'ws-aaaaaaaaaa', 1000);
    await orphans.markFirstSeen('us-east1-c', 'ws-bbbbbbbbbb', 2000);
    const byName = (ms: Awaited<ReturnType<OrphanStore['allMarkers']>>) =>
      [...ms].sort((x, y) => x.name.localeCompare(y.name));
    expect(byName(await orphans.allMarkers())).toEqual([
      { zone: 'europe-west1-b', name: 'ws-aaaaaaaaaa', firstSeenMs: 1000 },
      { zone: 'us-east1-c', name: 'ws-bbbbbbbbbb', firstSeenMs: 2000 },
    ]);
    await orphans.forget('europe-west1-b', 'ws-aaaaaaaaaa');
    expect(await orphans.allMarkers()).toEqual([
      { zone: 'us-east1-c', name: 'ws-bbbbbbbbbb', firstSeenMs: 2000 },
    ]);
  });
});
