import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface NpmStartHub {
  /** `http://127.0.0.1:PORT` */
  url: string;
  child: ChildProcess;
  output(): string;
  /** Ctrl-C, as a user stops it: the hub, its agents and its emulator end. */
  stop(): Promise<void>;
}

/**
 * What `npm start` runs once it has built: the command after the last `&&` of the root
 * package.json's `start` script (`node <launcher>.js`), so this follows wherever the launcher
 * moves. Assumes the repository is built (`npm run build`), as `npm start` does first.
 */
function npmStartCommand(): string[] {
  const script = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).scripts
    .start as string;
  const command = script.split('&&').at(-1)!.trim().split(/\s+/);
  if (command[0] !== 'node') throw new Error(`npm start runs ${script}: not node <file>`);
  return [join(REPO_ROOT, command[1]!), ...command.slice(2)];
}

/**
 * `npm start` (local driver, dev identities, an emulator of its own) on `port` with its
 * state in `dataDir`, for tests and scripts that drive the whole local hub as a user would.
 */
export async function startNpmStart(opts: {
  dataDir: string;
  port: number;
  env?: Record<string, string>;
  timeoutSeconds?: number;
}): Promise<NpmStartHub> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    HUB_DATA_DIR: opts.dataDir,
    PORT: String(opts.port),
    METADATA_SERVER_DETECTION: 'none',
    ...opts.env,
  };
  // It starts an emulator of its own and picks its own project, as `npm start` does.
  delete env.FIRESTORE_EMULATOR_HOST;
  delete env.HUB_URL;
  delete env.GOOGLE_CLOUD_PROJECT;
  let output = '';
  const child = spawn(process.execPath, npmStartCommand(), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const url = `http://127.0.0.1:${opts.port}`;
  const until = Date.now() + (opts.timeoutSeconds ?? 45) * 1000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited: ${output}`);
    const ready = await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`npm start did not get ready: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
}
