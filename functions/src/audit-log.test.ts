import { describe, expect, it } from 'vitest';
import { parseInstanceEvent } from './audit-log.js';

const entry = (
  methodName: string,
  resourceName = 'projects/p/zones/europe-west1-b/instances/ws-abcdefghij',
) => ({
  protoPayload: { serviceName: 'compute.googleapis.com', methodName, resourceName },
  resource: { type: 'gce_instance', labels: { project_id: 'p', zone: 'europe-west1-b' } },
});

describe('parseInstanceEvent', () => {
  it('reads the instance from user and system events', () => {
    for (const m of [
      'v1.compute.instances.stop',
      'beta.compute.instances.suspend',
      'compute.instances.preempted',
    ]) {
      expect(parseInstanceEvent(entry(m))).toEqual({
        event: { project: 'p', zone: 'europe-west1-b', instance: 'ws-abcdefghij', method: m },
      });
    }
  });
  it('explains why an event is not usable instead of throwing', () => {
    expect(parseInstanceEvent(null)).toEqual({ ignored: 'event has no data' });
    expect(
      parseInstanceEvent({ protoPayload: { serviceName: 'storage.googleapis.com' } }),
    ).toMatchObject({
      ignored: expect.stringContaining('not a Compute Engine event'),
    });
    expect(parseInstanceEvent(entry('v1.compute.disks.insert'))).toMatchObject({
      ignored: expect.stringContaining('not an instance method'),
    });
    expect(
      parseInstanceEvent(entry('v1.compute.instances.stop', 'projects/p/global/images/x')),
    ).toMatchObject({
      ignored: expect.stringContaining('not an instance resource'),
    });
  });
});
