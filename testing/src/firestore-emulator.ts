import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freeLoopbackPort } from '@workspace-hub/core';

/** A running Firestore emulator, started in its own process group. */
export interface FirestoreEmulator {
  /** `host:port`, the value for `FIRESTORE_EMULATOR_HOST`. */
  host: string;
  stop(): Promise<void>;
}

/** Whether any process of the group led by `pgid` is still there (signal 0 only checks). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export const freePort = freeLoopbackPort;

/**
 * Finds the emulator launcher of the Google Cloud SDK. The direct launcher starts in
 * about 2 s; `gcloud emulators firestore start` takes about 7, so it is the fallback.
 */
export function findEmulatorCommand(
  port: number,
  importData?: string,
): { cmd: string; args: string[] } {
  const extra = importData ? [`--import-data=${importData}`] : [];
  let sdkRoot = process.env.CLOUDSDK_ROOT_DIR ?? '';
  if (!sdkRoot) {
    try {
      sdkRoot = execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      throw new Error(
        'The Firestore emulator is needed but the Google Cloud SDK (gcloud) was not found. ' +
          'Install it with its cloud-firestore-emulator component (Debian: google-cloud-cli ' +
          'google-cloud-cli-firestore-emulator), or set FIRESTORE_EMULATOR_HOST to a running emulator.',
      );
    }
  }
  const launcher = join(
    sdkRoot,
    'platform',
    'cloud-firestore-emulator',
    'cloud_firestore_emulator',
  );
  if (existsSync(launcher))
    return { cmd: launcher, args: ['start', '--host=127.0.0.1', `--port=${port}`, ...extra] };
  return {
    cmd: 'gcloud',
    args: ['emulators', 'firestore', 'start', `--host-port=127.0.0.1:${port}`, ...extra],
  };
}

/**
 * Runs "$0" "$@" and ends its whole process group once stdin closes. (An
 * asynchronous list's stdin is /dev/null unless redirected, hence fd 3.)
 */
const WATCHED = 'exec 3<&0; "$0" "$@" </dev/null & (cat <&3 >/dev/null; kill -TERM -$$) & wait $!';

async function waitUntilUp(host: string, timeoutMs: number, exited: () => string | null) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const why = exited();
    if (why) throw new Error(`The Firestore emulator exited before it was ready: ${why}`);
    try {
      const res = await fetch(`http://${host}/`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`The Firestore emulator did not answer on ${host} within ${timeoutMs} ms`);
}

export async function startFirestoreEmulator(
  opts: {
    port?: number;
    timeoutMs?: number;
    /** An export's `.overall_export_metadata` file to start from (`--import-data`). */
    importData?: string;
  } = {},
): Promise<FirestoreEmulator> {
  const port = opts.port ?? (await freePort());
  const { cmd, args } = findEmulatorCommand(port, opts.importData);
  if (!existsSync('/usr/bin/java') && !process.env.JAVA_HOME)
    throw new Error('The Firestore emulator needs Java (a JRE 11+) on PATH.');
  // Own process group, so stopping it takes the java child too. The group also
  // ends when this process does, however it ends (a killed test run, a crash):
  // its stdin is a pipe from us, and when that closes the watcher ends the group.
  const child = spawn('sh', ['-c', WATCHED, cmd, ...args], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
  });
  let log = '';
  const keep = (b: Buffer) => {
    log = (log + b.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitInfo: string | null = null;
  child.once('exit', (code, signal) => {
    exitInfo = `code ${code} signal ${signal}\n${log}`;
  });
  child.once('error', (err) => {
    exitInfo = String(err);
  });
  const host = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.pid === undefined || exitInfo !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    const started = Date.now();
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    };
    const timer = setTimeout(killGroup, 3000);
    await gone;
    // The shell leads the group and may exit before its java child has let go of
    // the port: stopped means the whole group is gone (bounded: a zombie nobody
    // reaps would look alive forever).
    while (groupAlive(child.pid) && Date.now() - started < 10_000) {
      if (Date.now() - started > 3000) killGroup();
      await delay(50);
    }
    clearTimeout(timer);
  };
  try {
    await waitUntilUp(host, opts.timeoutMs ?? 60_000, () => exitInfo);
  } catch (err) {
    await stop();
    throw err;
  }
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  child.stdout?.resume();
  child.stderr?.resume();
  return { host, stop };
}

/** Deletes every document of `projectId` in the emulator at `host`. */
export async function resetFirestore(host: string, projectId: string): Promise<void> {
  const res = await fetch(
    `http://${host}/emulator/v1/projects/${projectId}/databases/(default)/documents`,
    { method: 'DELETE' },
  );
  if (!res.ok) throw new Error(`emulator reset failed: ${res.status}`);
}

/** The emulator's JVM may outlive its launcher for a moment: wait until the port is closed. */
export async function refusesConnections(p: number): Promise<void> {
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(p, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (!open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
