import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** Reads a written file back with Python's YAML parser, the one cloud-init itself uses. */
export async function writtenFile(dir: string, userData: string, path: string): Promise<string> {
  const file = join(dir, `extract-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, userData);
  const { stdout } = await run('python3', [
    '-c',
    'import sys, yaml; c = yaml.safe_load(open(sys.argv[1])); ' +
      'sys.stdout.write(next(f["content"] for f in c["write_files"] if f["path"] == sys.argv[2]))',
    file,
    path,
  ]);
  return stdout;
}

export interface StubbedRun {
  calls: string[][];
  exitCode: number;
}

/**
 * Runs a rendered script with the listed commands replaced by stubs that log
 * their argv and exit with the given status (0 by default), so a test sees
 * exactly the words each command would receive. `prelude` runs first, in the
 * same shell, before PATH points at the stubs.
 */
export async function runScriptWithStubs(
  dir: string,
  script: string,
  stubs: Record<string, number>,
  options: { prelude?: string; unshareMounts?: boolean } = {},
): Promise<StubbedRun> {
  const stubDir = await mkdtemp(join(dir, 'stubs-'));
  const log = join(stubDir, 'calls.log');
  await writeFile(log, '');
  for (const [name, status] of Object.entries(stubs)) {
    const stub = `#!/bin/bash\n{ printf '%s\\037' "\${0##*/}" "$@"; printf '\\036'; } >> ${JSON.stringify(log)}\nexit ${status}\n`;
    await writeFile(join(stubDir, name), stub);
    await chmod(join(stubDir, name), 0o755);
  }
  const scriptFile = join(stubDir, 'script.sh');
  await writeFile(scriptFile, script);
  const driver = `${options.prelude ?? ''}\nPATH=${JSON.stringify(`${stubDir}:/usr/sbin:/usr/bin:/sbin:/bin`)} exec /bin/bash ${JSON.stringify(scriptFile)}\n`;
  const [command, args] = options.unshareMounts
    ? ['unshare', ['--mount', '/bin/bash', '-c', driver]]
    : ['/bin/bash', ['-c', driver]];
  let exitCode = 0;
  try {
    await run(command, args as string[]);
  } catch (error) {
    exitCode = (error as { code?: number }).code ?? 1;
  }
  const calls = (await readFile(log, 'utf8'))
    .split('\x1e')
    .filter(Boolean)
    .map((call) => call.split('\x1f').slice(0, -1));
  return { calls, exitCode };
}
