import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Workspace } from '@workspace-hub/api';
import { type IapRelay, startIapRelay } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHub, runWsh, startLocalHub, WSH_MAIN } from '../../test/local-hub.js';

// `wsh ls` and the ssh ProxyCommand `wsh tunnel --stdio` run often and must start fast: they
// load the API contract, never core (and with it the Firestore and Compute clients), no Google
// client library when no Google token is needed (a dev identity, an access-token file), and
// none of the other commands' modules.
const REGISTER = fileURLToPath(new URL('../../test/module-log/register.mjs', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../', import.meta.url));
const HEAVY =
  /@workspace-hub\/core|\/core\/dist\/|@google-cloud\/|google-auth-library|google-gax|gaxios/;
const OTHER_COMMANDS = /\/cli\/doctor\/|\/cli\/commands\/(doctor|sync|login|config-ssh)\.js/;
const TUNNEL = /\/iap-tunnel\/|\/node_modules\/ws\/|\/cli\/commands\/ssh\.js/;

let hub: LocalHub;
let relay: IapRelay;
let dir: string;
let ws: Workspace;
const env = () => ({
  WSH_CONFIG_DIR: join(dir, 'config'),
  WSH_HUB: hub.url,
  WSH_DEV_EMAIL: 'imports@example.com',
  WSH_TRANSPORT: 'iap',
  WSH_IAP_RELAY_URL: relay.url,
  CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: join(dir, 'access-token'),
});

beforeAll(async () => {
  hub = await startLocalHub();
  dir = mkdtempSync(join(tmpdir(), 'wsh-imports-'));
  writeFileSync(join(dir, 'access-token'), 'test-access-token\n', { mode: 0o600 });
  relay = await startIapRelay({
    token: 'test-access-token',
    resolveTarget: () => ({ host: '127.0.0.1', port: ws.agent!.port! }),
  });
  const created = await runWsh(['create', '--json'], {
    configDir: join(dir, 'config'),
    hub: hub.url,
    env: { WSH_DEV_EMAIL: 'imports@example.com' },
  });
  expect(created.code, created.stderr).toBe(0);
  ws = JSON.parse(created.stdout);
});

afterAll(async () => {
  await relay?.close();
  await hub?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * The bundle's chunks stand for the modules they were made of (its metafile says which), so the
 * checks below see what a chunk holds: a chunk is read and compiled whole once it is imported.
 */
function sourceModules(loaded: string[]): string[] {
  const meta = JSON.parse(readFileSync(join(CLIENT, 'dist/wsh/meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  return loaded.flatMap((line) => {
    const url = line.split(' ').at(-1)!;
    if (!url.startsWith('file:')) return [line];
    const chunk = relative(CLIENT, fileURLToPath(url));
    const inputs = meta.outputs[chunk]?.inputs;
    return inputs ? Object.keys(inputs).map((input) => join(CLIENT, input)) : [line];
  });
}

/** Runs wsh's bin with the module log; resolves once `done(stdout)` holds, then stops it. */
function wshLoading(
  name: string,
  args: string[],
  done: (stdout: string) => boolean,
): Promise<{ stdout: string; modules: string[] }> {
  const log = join(dir, `${name}.modules`);
  writeFileSync(log, '');
  const child = spawn(process.execPath, ['--import', REGISTER, WSH_MAIN, ...args], {
    env: { ...process.env, ...env(), MODULE_LOG: log },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const finish = () => {
      child.kill();
      const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      // What users run: the bundle, not tsc's modules (the test set-up has just made it).
      expect(loaded.some((m) => m.endsWith('/client/dist/wsh/main.js'))).toBe(true);
      resolve({ stdout, modules: sourceModules(loaded) });
    };
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`wsh ${args.join(' ')}: no answer: ${stderr}`));
    }, 20_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (done(stdout)) {
        clearTimeout(timer);
        finish();
      }
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('exit', (code) => {
      if (done(stdout)) return;
      clearTimeout(timer);
      reject(new Error(`wsh ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

describe('what the CLI loads', () => {
  it('`wsh ls` lists without loading core, Firestore or Google client libraries', async () => {
    const { stdout, modules } = await wshLoading('ls', ['ls', '--json'], (out) =>
      out.includes(ws.id),
    );
    expect(stdout).toContain(ws.id);
    expect(modules.some((m) => m.includes('/api/dist/'))).toBe(true);
    expect(modules.filter((m) => HEAVY.test(m))).toEqual([]);
    expect(modules.filter((m) => OTHER_COMMANDS.test(m) || TUNNEL.test(m))).toEqual([]);
  });

  it('`wsh tunnel --stdio` reaches the agent through the IAP relay without them either', async () => {
    const { stdout, modules } = await wshLoading('tunnel', ['tunnel', ws.id, '--stdio'], (out) =>
      out.includes('\n'),
    );
    expect(stdout).toMatch(/^SSH-2\.0-/);
    expect(modules.some((m) => m.includes('/iap-tunnel/'))).toBe(true);
    // ws masks every frame the client sends: natively when bufferutil loads, which the bundle
    // must leave to node_modules (bundled, it would not find its compiled code).
    expect(modules.some((m) => /require bufferutil from .*\/dist\/wsh\//.test(m))).toBe(true);
    expect(modules.filter((m) => HEAVY.test(m))).toEqual([]);
    expect(modules.filter((m) => OTHER_COMMANDS.test(m))).toEqual([]);
  });
});
