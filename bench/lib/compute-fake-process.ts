/**
 * The Compute REST fake in a process of its own, for benchmarks: GCE does its
 * work on other machines, so the fake's request handling must not share the
 * measured process's event loop. Prints one JSON line ({ endpoint }) when
 * listening; ends when its parent closes stdin.
 * Run: node --import tsx bench/lib/compute-fake-process.ts PROJECT [STEP_MS]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { OAuth2Client } from 'google-auth-library';

export interface ComputeFakeProcess {
  endpoint: string;
  /** What the fake accepts as credentials (any bearer token). */
  authClient: OAuth2Client;
  close(): Promise<void>;
}

export async function spawnComputeFake(project: string, stepMs = 5): Promise<ComputeFakeProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), project, String(stepMs)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const first = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`compute fake exited (${code})`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const { endpoint } = JSON.parse(first) as { endpoint: string };
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'bench', expiry_date: Date.now() + 3600_000 });
  return {
    endpoint,
    authClient,
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startComputeFake } = await import('@workspace-hub/testing');
  const fake = await startComputeFake({
    project: process.argv[2] ?? 'bench',
    stepMs: Number(process.argv[3] ?? 5),
  });
  console.log(JSON.stringify({ endpoint: fake.endpoint }));
  process.stdin.resume();
  process.stdin.on('end', () => void fake.close().then(() => process.exit(0)));
}
