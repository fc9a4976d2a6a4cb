import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Runs a TypeScript `script` (through tsx) in a process of its own, so what
 * it serves does not share the measured process's event loop. Resolves with
 * the first line it prints. It ends on `stop()`, and also when this process
 * ends however it ends: its stdin is a pipe from here (see `endWithParent`).
 */
export async function spawnSideProcess(
  script: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ line: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${script} exited (${code}) before it was ready`)),
    );
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  child.removeAllListeners('exit');
  child.stdout.resume();
  return {
    line,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

/** In a side process: runs `cleanup`, then exits, once the parent closes stdin (stop, or gone). */
export function endWithParent(cleanup: () => Promise<void>): void {
  process.stdin.resume();
  process.stdin.once('end', () => void cleanup().finally(() => process.exit(0)));
}
