import type { ComputeDriver } from '@workspace-hub/core';
import { createApp } from '../src/app.js';
import type { TestHub } from './harness.js';

export type DriverCall = 'create' | 'suspend' | 'resume' | 'delete';

/**
 * A second hub over `hub`'s Firestore and Compute that dies inside `call`,
 * before sending it (`sent: false`) or once GCE has taken it (`sent: true`):
 * the call never returns, as when the instance is stopped or crashes there.
 * Returns a way to send it requests as `user`, which are never answered.
 */
export function dyingHub(hub: TestHub, user: string, call: DriverCall, sent: boolean) {
  const real = hub.deps.driver as unknown as Record<
    DriverCall,
    (...a: unknown[]) => Promise<unknown>
  >;
  const dies = async (...args: unknown[]) => {
    if (sent) await real[call](...args);
    return new Promise(() => {});
  };
  const driver = { ...hub.deps.driver, [call]: dies } as ComputeDriver;
  const app = createApp({ ...hub.deps, driver });
  return (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    void app.request(path, {
      method,
      headers: { authorization: `Bearer dev:${user}`, ...headers },
      body,
    });
}
