import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentProcessesUnder,
  type LocalHub,
  startLocalHub,
  wshAs,
} from '../../client/test/local-hub.js';

/** A workspace's agent killed under a local hub (SIGKILL: no goodbye, as a crash). */
let hub: LocalHub;
let root: string;
const device = { configDir: '', home: '' };
const TIMEOUT = 180_000;

const wshOk = (args: string[]) => wshAs(device, () => hub.url).ok(args);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fault-agent-killed-'));
  device.home = join(root, 'home');
  device.configDir = join(root, 'config');
  mkdirSync(device.home, { recursive: true });
  hub = await startLocalHub();
  await wshOk(['login', '--dev', 'dev@example.com']);
}, TIMEOUT);

afterAll(async () => {
  await hub?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('an agent killed under the local hub', () => {
  it(
    'is reported, and start brings it back on the same home',
    async () => {
      const created = JSON.parse(
        await wshOk(['create', '--repo', 'https://github.com/acme/app', '--json']),
      );
      const id: string = created.id;
      expect(created.status).toBe('READY');
      await wshOk(['ssh', id, '--', 'echo kept-$((6*7)) > before-kill.txt']);
      const [pid] = agentProcessesUnder(hub.dataDir);
      process.kill(pid!, 'SIGKILL');

      // The hub notices by itself: no call tells it (polled, bounded).
      let status: { status: string; status_reason?: string } = { status: 'READY' };
      for (let i = 0; i < 60 && status.status === 'READY'; i++) {
        await new Promise((r) => setTimeout(r, 500));
        status = JSON.parse(await wshOk(['status', id, '--json'])).workspace;
      }
      expect(status.status).not.toBe('READY');
      expect(status.status_reason).toMatch(/outside the hub/);

      expect(JSON.parse(await wshOk(['start', id, '--json'])).status).toBe('READY');
      const [restarted] = agentProcessesUnder(hub.dataDir);
      expect(restarted).not.toBe(pid);
      expect(await wshOk(['ssh', id, '--', 'cat before-kill.txt'])).toBe('kept-42\n');
    },
    TIMEOUT,
  );
});
