/**
 * The Compute REST fake in a process of its own, for benchmarks: GCE does its
 * work on other machines, so the fake's request handling must not share the
 * measured process's event loop.
 */
import { fileURLToPath } from 'node:url';
import { OAuth2Client } from 'google-auth-library';
import { endWithParent, spawnSideProcess } from './side-process.js';

export interface ComputeFakeProcess {
  endpoint: string;
  /** What the fake accepts as credentials (any bearer token). */
  authClient: OAuth2Client;
  close(): Promise<void>;
}

export async function spawnComputeFake(project: string, stepMs = 5): Promise<ComputeFakeProcess> {
  const side = await spawnSideProcess(fileURLToPath(import.meta.url), [project, String(stepMs)]);
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'bench', expiry_date: Date.now() + 3600_000 });
  return { endpoint: side.line.trim(), authClient, close: side.stop };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startComputeFake } = await import('@workspace-hub/testing');
  const fake = await startComputeFake({
    project: process.argv[2] ?? 'bench',
    stepMs: Number(process.argv[3] ?? 5),
  });
  console.log(fake.endpoint);
  endWithParent(() => fake.close());
}
