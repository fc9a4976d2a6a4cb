import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SideProcess {
  line: string;
  /** The side process's own CPU time so far (user + system), from `process.cpuUsage()` there. */
  cpuUsage(): Promise<NodeJS.CpuUsage>;
  stop(): Promise<void>;
}

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
): Promise<SideProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env,
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${script} exited (${code}) before it was ready`)),
    );
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  child.removeAllListeners('exit');
  child.stdout!.resume();
  // Only the CPU report travels on the IPC channel; it must not keep this process alive.
  child.channel?.unref();
  return {
    line,
    cpuUsage: () =>
      new Promise((resolve, reject) => {
        child.channel?.ref();
        child.once('message', (usage) => {
          child.channel?.unref();
          resolve(usage as NodeJS.CpuUsage);
        });
        if (!child.send('cpu-usage')) reject(new Error(`${script} is gone`));
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

/**
 * In a side process: answers the parent's CPU-usage questions, and runs `cleanup`,
 * then exits, once the parent closes stdin (stop, or gone).
 */
export function endWithParent(cleanup: () => Promise<void>): void {
  process.on('message', (msg) => {
    if (msg === 'cpu-usage') process.send?.(process.cpuUsage());
  });
  process.channel?.unref();
  process.stdin.resume();
  process.stdin.once('end', () => void cleanup().finally(() => process.exit(0)));
}
