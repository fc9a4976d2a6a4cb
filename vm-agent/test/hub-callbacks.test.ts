import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { googleClaims, rsaSigner, startCloudRunFrontDoor } from '@workspace-hub/testing';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REVOCATION_BOUND_MS } from '../src/authorized-keys.js';
import {
  exited,
  FakeHub,
  type KeyPair,
  launchAgent,
  logLines,
  makeKey,
  runProgram,
  Screen,
  ssh,
  startTestAgent,
  type TestAgent,
  tempDir,
} from './helpers.js';

const WORKSPACE = 'ws-abcdefghij';

let hub: FakeHub;
let laptop: KeyPair;
let tablet: KeyPair;
let keysDir: string;

beforeAll(async () => {
  hub = new FakeHub();
  await hub.start();
  keysDir = tempDir('vm-agent-keys-');
  laptop = await makeKey(keysDir, 'laptop-comment');
  tablet = await makeKey(keysDir, 'tablet-comment');
  hub.keys = [{ name: 'dev-laptop-1', public_key: laptop.publicKey, owner: 'ada@example.com' }];
});

afterAll(() => hub?.close());

describe('with a hub (local mode token)', () => {
  let agent: TestAgent;

  beforeAll(async () => {
    agent = await startTestAgent({
      HUB_URL: hub.url,
      WORKSPACE_ID: WORKSPACE,
      WORKSPACE_AGENT_TOKEN: 'local-secret-token',
      AGENT_HEARTBEAT_SECONDS: '1',
    });
  });
  afterAll(() => agent?.close());

  it('reports ready with its fingerprint, port and version, authenticated', async () => {
    const [ready] = await hub.waitFor('/agent/ready');
    expect(ready?.headers.authorization).toBe('Bearer local-secret-token');
    expect(ready?.headers['x-workspace-id']).toBe(WORKSPACE);
    // Only an identity token is for Cloud Run's invoker check; a local token goes nowhere else.
    expect(ready?.headers['x-serverless-authorization']).toBeUndefined();
    expect(ready?.body).toEqual({
      workspace_id: WORKSPACE,
      agent_version: expect.any(String),
      host_key_fingerprint: agent.hostKeyFingerprint,
      host_public_key: agent.hostPublicKey,
      port: agent.port,
    });
  });

  it('lets in the keys the hub serves, labelled with the key name as device id', async () => {
    const result = await ssh(agent, laptop, ['echo hello']);
    expect(result.stdout).toBe('hello\n');
    expect(hub.calls('/agent/authorized-keys')[0]?.headers.authorization).toBe(
      'Bearer local-secret-token',
    );
    expect(logLines).toContainEqual(
      expect.objectContaining({ audit: 'auth', result: 'accepted', device_id: 'dev-laptop-1' }),
    );
  });

  it('fetches the list again when an unknown key shows up, so a new device works at once', async () => {
    expect((await ssh(agent, tablet, ['true'])).code).toBe(255);
    hub.keys = [
      ...hub.keys,
      { name: 'dev-tablet-2', public_key: tablet.publicKey, owner: 'ada@example.com' },
    ];
    // No retry: the very next connection after the hub accepted the key gets in.
    const result = await ssh(agent, tablet, ['echo in']);
    expect(result.stdout).toBe('in\n');
    expect(result.code).toBe(0);
  });

  it('keeps letting in the keys it knows while the hub cannot answer', async () => {
    expect((await ssh(agent, laptop, ['true'])).code).toBe(0);
    hub.failures = Array(10_000).fill(503);
    try {
      // Past the revocation bound the list must be fetched again; the hub fails.
      await new Promise((r) => setTimeout(r, REVOCATION_BOUND_MS + 500));
      const before = hub.calls('/agent/authorized-keys').length;
      expect((await ssh(agent, laptop, ['echo still'])).stdout).toBe('still\n');
      expect(hub.calls('/agent/authorized-keys').length).toBeGreaterThan(before);
    } finally {
      hub.failures = [];
    }
  });

  it('sends heartbeats carrying activity and attached devices, and reports ready again when asked', async () => {
    const client = spawn('ssh', [
      ...(await import('./helpers.js')).sshArgs(agent, laptop, ['-tt']),
      'dev@127.0.0.1',
      'attach',
      'hb',
    ]);
    const screen = new Screen(client.stdout);
    client.stdin.write('echo beat-$((3+4))\n');
    await screen.waitFor('beat-7');
    const before = hub.calls('/agent/heartbeat').length;
    let beats = await hub.waitFor('/agent/heartbeat', before + 1);
    const devices = (beat: typeof beats) =>
      (beat.at(-1)?.body as { attached_devices?: string[] } | undefined)?.attached_devices ?? [];
    while (!devices(beats).includes('dev-laptop-1')) {
      client.stdin.write('true\n');
      beats = await hub.waitFor('/agent/heartbeat', beats.length + 1);
    }
    const beat = beats.at(-1);
    expect(beat?.headers.authorization).toBe('Bearer local-secret-token');
    expect(beat?.body).toMatchObject({ workspace_id: WORKSPACE, sessions: expect.any(Number) });
    expect(
      Date.parse((beat?.body as { last_activity_at?: string } | undefined)?.last_activity_at ?? ''),
    ).not.toBeNaN();

    const readies = hub.calls('/agent/ready').length;
    hub.reportReady = true;
    client.stdin.write('true\n');
    await hub.waitFor('/agent/ready', readies + 1);
    client.kill();
  });
});

describe('behind Cloud Run (the hub deployed with IAM invoker checks)', () => {
  const google = rsaSigner();
  const VM_SA = 'workspace-hub-vm@acme-dev.iam.gserviceaccount.com';

  it('passes the invoker check and still hands the hub a verifiable identity token', async () => {
    const metadata = new FakeHub();
    metadata.signIdentity = (audience) =>
      google.sign(
        googleClaims(audience, {
          sub: '1234567890',
          email: VM_SA,
          email_verified: true,
          google: {
            compute_engine: {
              project_id: 'acme-dev',
              zone: 'europe-west1-b',
              instance_name: WORKSPACE,
            },
          },
        }),
      );
    await metadata.start();
    const door = await startCloudRunFrontDoor({
      serviceUrls: ['https://workspace-hub-123.europe-west1.run.app'],
      invokers: [`serviceAccount:${VM_SA}`],
      certs: google.certs,
    });
    const container = new FakeHub();
    await container.start(Number(door.containerEnv.PORT));
    container.keys = hub.keys;
    const agent = await startTestAgent({
      HUB_URL: door.url,
      WORKSPACE_ID: WORKSPACE,
      GCE_METADATA_HOST: new URL(metadata.url).host,
    });
    try {
      const [ready] = await container.waitFor('/agent/ready');
      await vi.waitFor(() =>
        expect(door.exchanges.find((e) => e.path === '/agent/ready')).toMatchObject({
          status: 200,
          principal: `serviceAccount:${VM_SA}`,
        }),
      );
      // What the hub verifies: Google's signature, its own URL as audience, expiry, the claims.
      const token = /^Bearer (\S+)$/.exec(String(ready?.headers.authorization))?.[1] ?? '';
      const ticket = await new OAuth2Client().verifySignedJwtWithCertsAsync(
        token,
        google.certs,
        door.url,
        ['https://accounts.google.com'],
      );
      expect(ticket.getPayload()).toMatchObject({
        google: { compute_engine: { instance_name: WORKSPACE } },
      });
      expect(ready?.headers['x-serverless-authorization']).toMatch(
        /\.SIGNATURE_REMOVED_BY_GOOGLE$/,
      );
      // The authorized-keys call takes the same way: a device key is let in.
      expect((await ssh(agent, laptop, ['echo through'])).stdout).toBe('through\n');
      expect(container.calls('/agent/authorized-keys')[0]?.headers.authorization).toBe(
        ready?.headers.authorization,
      );
    } finally {
      await agent.close();
      await door.close();
      await container.close();
      await metadata.close();
    }
  });
});

describe('retries', () => {
  it('keeps reporting ready through hub errors and never crashes', async () => {
    const flaky = new FakeHub();
    await flaky.start();
    flaky.failures = [503, 500, 401];
    const agent = await startTestAgent({
      HUB_URL: flaky.url,
      WORKSPACE_ID: WORKSPACE,
      WORKSPACE_AGENT_TOKEN: 'tok-xyz',
    });
    const readies = await flaky.waitFor('/agent/ready', 4);
    expect(readies.map((r) => r.body)).toEqual(
      Array(4).fill(expect.objectContaining({ port: agent.port })),
    );
    expect(JSON.stringify(logLines)).not.toContain('tok-xyz');
    expect(logLines).toContainEqual(
      expect.objectContaining({ message: 'hub ready failed', status: 401 }),
    );
    await agent.close();
    await flaky.close();
  });
});

describe('the vm-agent process', () => {
  it('names the bad variable and stops', async () => {
    const { child, err } = launchAgent({ AGENT_SCROLLBACK_BYTES: 'lots' });
    expect(await exited(child)).toBe(2);
    expect(err.text).toContain('AGENT_SCROLLBACK_BYTES');
    const second = launchAgent({ HUB_URL: 'http://127.0.0.1:1' });
    expect(await exited(second.child)).toBe(2);
    expect(second.err.text).toContain('WORKSPACE_ID');
  });

  it('keeps its host key across restarts, uses the GCE identity token, reports ready after a freeze and stops on SIGTERM', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'authorized_keys'), `${laptop.publicKey}\n`);
    const metadata = new FakeHub();
    await metadata.start();
    const gceHub = new FakeHub();
    await gceHub.start();
    const env = {
      AGENT_PORT: '0',
      AGENT_LISTEN_HOST: '127.0.0.1',
      AGENT_HOME: join(dir, 'home'),
      HUB_URL: gceHub.url,
      WORKSPACE_ID: WORKSPACE,
      GCE_METADATA_HOST: new URL(metadata.url).host,
      AGENT_HEARTBEAT_SECONDS: '1',
    };
    const first = launchAgent(env);
    await first.out.waitFor('vm-agent ready');
    const fingerprint = /"host_key_fingerprint":"(SHA256:[^"]+)"/.exec(first.out.text)?.[1];
    const [ready] = await gceHub.waitFor('/agent/ready');
    const [tokenRequest] = metadata.calls(
      '/computeMetadata/v1/instance/service-accounts/default/identity',
    );
    expect(tokenRequest?.headers['metadata-flavor']).toBe('Google');
    expect(new URL(`http://x${tokenRequest?.path}`).searchParams.get('audience')).toBe(gceHub.url);
    expect(new URL(`http://x${tokenRequest?.path}`).searchParams.get('format')).toBe('full');
    expect(ready?.headers.authorization).toMatch(/^Bearer eyJ/);

    // Suspend, as the local driver and a GCE suspend do: the agent notices the jump on resume.
    first.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 5000));
    first.child.kill('SIGCONT');
    await gceHub.waitFor('/agent/ready', 2);
    expect(first.out.text).toContain('wall-clock jump');
    // One identity token serves until near its expiry.
    expect(
      metadata.calls('/computeMetadata/v1/instance/service-accounts/default/identity'),
    ).toHaveLength(1);

    first.child.kill('SIGTERM');
    const code = await exited(first.child);
    expect({ code, signal: first.child.signalCode }).toEqual({ code: 0, signal: null });

    const second = launchAgent(env);
    await second.out.waitFor('vm-agent ready');
    expect(second.out.text).toContain(fingerprint);
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
    await metadata.close();
    await gceHub.close();
    await runProgram('rm', ['-rf', dir]);
  });
});
