import { describe, expect, it } from 'vitest';
import { FirestoreReadiness } from './firestore-readiness.js';

describe('FirestoreReadiness.refresh', () => {
  it('asks Firestore once for a burst of /health calls, and again once its answer is older than the limit', async () => {
    let probes = 0;
    let clock = 0;
    const readiness = new FirestoreReadiness(
      async () => {
        probes++;
      },
      () => clock,
    );
    for (let call = 0; call < 100; call++) readiness.refresh(5_000);
    await new Promise((resolve) => setImmediate(resolve));
    for (let call = 0; call < 100; call++) readiness.refresh(5_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(probes).toBe(1);
    expect(readiness.current).toBe('ok');

    clock = 4_999;
    readiness.refresh(5_000);
    expect(probes).toBe(1);
    clock = 5_000;
    readiness.refresh(5_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(probes).toBe(2);
  });

  it('leaves /ready asking every time', async () => {
    let probes = 0;
    const readiness = new FirestoreReadiness(async () => {
      probes++;
    });
    await readiness.check();
    await readiness.check();
    expect(probes).toBe(2);
  });

  it('starts no probe once stopped', async () => {
    let probes = 0;
    const readiness = new FirestoreReadiness(() => {
      probes++;
      return new Promise<void>(() => {});
    });
    readiness.refresh(0);
    readiness.stop();
    readiness.refresh(0);
    expect(await readiness.check()).toBe(false);
    expect(probes).toBe(1);
  });
});
