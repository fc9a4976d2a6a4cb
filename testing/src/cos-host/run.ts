import { execFile } from 'node:child_process';

/** Runs a command to completion (bounded), resolving its stdout; rejects naming it and its stderr. */
export function run(
  command: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`${command} ${args.join(' ')} failed: ${String(stderr).trim() || err}`));
        else resolve(String(stdout));
      },
    );
    // A command may exit before reading its input (or take none): never an unhandled EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input ?? '');
  });
}
