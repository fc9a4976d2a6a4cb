import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@workspace-hub/testing';
import { inject } from 'vitest';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What `npx wsh` runs: the bundle the test set-up writes (client/test/bundle-setup.mjs). */
export const WSH_MAIN = join(REPO_ROOT, 'client/bin/wsh.js');

export interface LocalHub {
  url: string;
  dataDir: string;
  process: ChildProcess;
  logs: () => string;
  stop(): Promise<void>;
}

/** `npm start`'s launcher (vm-agent processes, dev identities) on the test Firestore emulator. */
export async function startLocalHub(env: Record<string, string> = {}): Promise<LocalHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsh-hub-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(process.execPath, [join(REPO_ROOT, 'local/dist/main.js')], {
    env: {
      ...process.env,
      HUB_URL: url,
      FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
      GOOGLE_CLOUD_PROJECT: `test-${randomBytes(5).toString('hex')}`,
      PORT: String(port),
      HUB_DATA_DIR: dataDir,
      METADATA_SERVER_DETECTION: 'none',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hub exited: ${output}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`hub did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    dataDir,
    process: child,
    logs: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Pids of live processes whose environment points AGENT_HOME under `dataDir`. */
export function agentProcessesUnder(dataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (env.some((v) => v.startsWith(`AGENT_HOME=${dataDir}`))) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

export interface WshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `wsh` as a device whose config lives in `configDir`. */
export function runWsh(
  args: string[],
  opts: { configDir: string; hub: string; env?: Record<string, string>; input?: string },
): Promise<WshResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [WSH_MAIN, ...args],
      {
        env: {
          ...process.env,
          WSH_CONFIG_DIR: opts.configDir,
          WSH_HUB: opts.hub,
          WSH_POLL_MS: '200',
          ...opts.env,
        },
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(opts.input ?? '');
  });
}

/**
 * The environment of a device with no identity at all: no dev email, no service-account key, and
 * a gcloud config folder under `dir` that holds no account.
 */
export function noIdentityEnv(dir: string): Record<string, string> {
  return {
    WSH_DEV_EMAIL: '',
    GOOGLE_APPLICATION_CREDENTIALS: '',
    CLOUDSDK_CONFIG: join(dir, 'no-gcloud-config'),
  };
}

/** Where a device keeps its `wsh` config and which home it runs in (filled in by the set-up). */
export interface WshDevice {
  configDir: string;
  home: string;
}

/**
 * `wsh` as one device of `email` against the hub at `hubUrl()` (read at each call: files start
 * their hub in `beforeAll`). `ok` insists on exit code 0 and no stack trace in its stderr (the
 * CLI explains a failure, it never dumps one) and returns the output.
 */
export function wshAs(device: WshDevice, hubUrl: () => string, email = 'dev@example.com') {
  const run = (args: string[]) =>
    runWsh(args, {
      configDir: device.configDir,
      hub: hubUrl(),
      env: { HOME: device.home, WSH_DEV_EMAIL: email },
    });
  return {
    run,
    async ok(args: string[]): Promise<string> {
      const r = await run(args);
      const command = `wsh ${args.join(' ')}`;
      if (/\n\s+at .+:\d+:\d+/.test(r.stderr))
        throw new Error(`${command} printed a stack trace:\n${r.stderr}`);
      if (r.code !== 0) throw new Error(`${command} exited with ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
  };
}
