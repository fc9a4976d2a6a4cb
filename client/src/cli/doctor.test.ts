import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHub, noIdentityEnv, runWsh, startLocalHub } from '../../test/local-hub.js';
import type { StepResult } from './doctor/step.js';

const ADMIN = 'admin@example.com';
const MEMBER = 'member@example.com';
const FULL = 'full@example.com';

let hub: LocalHub;
let dir: string;

beforeAll(async () => {
  hub = await startLocalHub({
    HUB_ADMINS: ADMIN,
    HUB_ALLOWED_DOMAINS: 'example.com',
    HUB_MAX_WORKSPACES_PER_USER: '1',
  });
  dir = mkdtempSync(join(tmpdir(), 'wsh-doctor-'));
});
afterAll(async () => {
  await hub?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `wsh doctor` as `email`, from a device of its own. */
function doctor(email: string, args: string[] = [], hubUrl = hub.url) {
  return runWsh(['doctor', ...args], {
    configDir: join(dir, email),
    hub: hubUrl,
    env: { WSH_DEV_EMAIL: email },
  });
}

function steps(stdout: string): Record<string, StepResult> {
  const report = JSON.parse(stdout) as { steps: StepResult[] };
  return Object.fromEntries(report.steps.map((s) => [s.step, s]));
}

describe('wsh doctor on a local hub', () => {
  it('checks the hub, the identity, the device key and says how to test the tunnel', async () => {
    const r = await doctor(MEMBER);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ok +\d+\.\ds {2}credentials dev identity member@example\.com/);
    expect(lines[1]).toMatch(
      /^ok +\d+\.\ds {2}hub +http:\/\/127\.0\.0\.1:\d+ answers, hub \S+, wsh \S+$/,
    );
    expect(lines[2]).toMatch(/^ok .* identity +member@example\.com \(not an admin\)$/);
    expect(r.stdout).toMatch(/^warn .* device key +no key for device/m);
    expect(r.stdout).toContain('check: `wsh keys`');
    expect(r.stdout).toMatch(/^skip .* tunnel +no READY workspace/m);
    expect(lines.at(-1)).toBe('all checks passed');
  });

  it('tells an admin so, and reads back the key `wsh keys` registered', async () => {
    const keys = await runWsh(['keys'], {
      configDir: join(dir, ADMIN),
      hub: hub.url,
      env: { WSH_DEV_EMAIL: ADMIN },
    });
    expect(keys.code, keys.stderr).toBe(0);
    const r = await doctor(ADMIN, ['--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = steps(r.stdout);
    expect(s.identity).toMatchObject({ status: 'ok', detail: `${ADMIN} (admin)` });
    expect(s['device key']).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/SHA256:.*registered$/),
    });
  });

  it('fails with what to check when the hub does not let the account in', async () => {
    const r = await doctor('mallory@elsewhere.test', ['--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    const s = steps(r.stdout);
    expect(s.hub?.status).toBe('ok');
    expect(s.identity).toMatchObject({
      status: 'fail',
      hint: expect.stringContaining('allowed_users'),
    });
    expect(s.tunnel).toMatchObject({ status: 'skip' });
  });

  it('fails at the credentials, saying how to get them, with no Google identity at all', async () => {
    const r = await runWsh(['doctor', '--json'], {
      configDir: join(dir, 'nobody'),
      hub: hub.url,
      env: noIdentityEnv(dir),
    });
    expect(r.code).toBe(1);
    const s = steps(r.stdout);
    expect(s.credentials).toMatchObject({
      status: 'fail',
      // A local hub: the email it takes, not Google's sign-in (the hint covers both).
      detail: expect.stringContaining('set WSH_DEV_EMAIL'),
      hint: expect.stringContaining('gcloud auth login'),
    });
    expect(s.hub).toMatchObject({ status: 'skip', detail: 'needs credentials' });
  });

  it('fails at the hub, saying where to look, when nothing answers at the URL', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const r = await doctor(MEMBER, [], nowhere);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL .* hub +cannot reach the hub/m);
    expect(r.stdout).toContain(`check: nothing answers at ${nowhere}`);
    expect(r.stdout).toMatch(/^skip .* identity/m);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 failed: hub');
  });

  it('--full lives one workspace through create, READY, ssh, suspend, resume and delete', async () => {
    const r = await doctor(FULL, ['--full', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const s = steps(r.stdout);
    for (const name of ['create', 'ready', 'ssh', 'suspend', 'resume', 'delete'])
      expect(s[name], name).toMatchObject({ status: 'ok', ms: expect.any(Number) });
    expect(s.ssh?.detail).toContain('over loopback');
    const left = await runWsh(['ls', '--json'], {
      configDir: join(dir, FULL),
      hub: hub.url,
      env: { WSH_DEV_EMAIL: FULL },
    });
    expect(JSON.parse(left.stdout).workspaces).toEqual([]);
  });

  it('--full stops at a failing step with its hint, and deletes nothing it did not create', async () => {
    // The hub allows one workspace per user: a second cannot be created.
    const made = await runWsh(['create', '--json'], {
      configDir: join(dir, MEMBER),
      hub: hub.url,
      env: { WSH_DEV_EMAIL: MEMBER },
    });
    expect(made.code, made.stderr).toBe(0);
    const r = await doctor(MEMBER, ['--full', '--json']);
    expect(r.code).toBe(1);
    const s = steps(r.stdout);
    expect(s.create).toMatchObject({
      status: 'fail',
      hint: expect.stringContaining("hub's output"),
    });
    expect(s.ready).toMatchObject({ status: 'skip', detail: 'create failed' });
    expect(s.delete).toMatchObject({ status: 'skip', detail: 'nothing was created' });
    // The READY workspace it has is where the tunnel check went: its agent's SSH banner.
    const ws = JSON.parse(made.stdout);
    expect(s.tunnel).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(new RegExp(`^${ws.id} port \\d+ through loopback: SSH-2\\.0-`)),
    });
    expect(
      (
        await runWsh(['status', ws.id], {
          configDir: join(dir, MEMBER),
          hub: hub.url,
          env: { WSH_DEV_EMAIL: MEMBER },
        })
      ).code,
    ).toBe(0);
  });
});
