import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, startComputeFake } from '@workspace-hub/testing';
import { describe, expect, inject, it } from 'vitest';

const HUB_URL = 'https://workspace-hub-123.europe-west1.run.app';
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const MODULE_VARIABLES = fileURLToPath(
  new URL('../../terraform/workspace-hub/variables.tf.json', import.meta.url),
);

/** Cloud Run's memory limit notation (Mi, Gi) in MiB. */
function mebibytes(limit: string): number {
  const [, amount, unit] = /^(\d+)(Mi|Gi)$/.exec(limit) ?? [];
  if (!amount) throw new Error(`unexpected memory limit ${limit}`);
  return Number(amount) * (unit === 'Gi' ? 1024 : 1);
}

/** A caller's token as Cloud Run forwards it once checked (cloud-run-iam reads only its claims). */
function checkedByCloudRun(email: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: 'https://accounts.google.com',
    aud: HUB_URL,
    sub: '1',
    email,
    email_verified: true,
    iat: now,
    exp: now + 3600,
  };
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.SIGNATURE_REMOVED_BY_GOOGLE`;
}

const rssMiB = (pid: number) => {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
};

describe('the hub on Cloud Run', () => {
  it('fits the module’s memory limit twice over once loaded with the gce driver', async () => {
    const fake = await startComputeFake({ project: 'memory-check' });
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        METADATA_SERVER_DETECTION: 'none',
        PORT: String(port),
        HUB_DRIVER: 'gce',
        HUB_AUTH: 'cloud-run-iam',
        HUB_URL,
        HUB_WORKSPACE_IMAGE: 'europe-docker.pkg.dev/memory-check/workspace-hub/workspace:v1',
        HUB_COMPUTE_ENDPOINT: fake.endpoint,
        GOOGLE_CLOUD_PROJECT: 'memory-check',
        FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      let health: Response | undefined;
      for (let i = 0; i < 400 && !health?.ok; i++) {
        await new Promise((r) => setTimeout(r, 50));
        health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
      }
      expect(health?.status).toBe(200);
      // A create loads the Compute client (the driver imports it on first use), the heaviest part.
      const created = await fetch(`http://127.0.0.1:${port}/workspaces`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${checkedByCloudRun('ada@example.com')}`,
          'content-type': 'application/json',
        },
        body: '{}',
      });
      expect(created.status).toBe(202);
      const measured = rssMiB(child.pid!);
      const variables = JSON.parse(readFileSync(MODULE_VARIABLES, 'utf8')).variable;
      const limit = mebibytes(variables.hub_memory.default);
      console.log(
        `hub RSS with the gce driver loaded: ${measured.toFixed(0)} MiB; module default ${limit} MiB`,
      );
      // Headroom for requests in flight: terminal WebSockets, list pages, the Compute client's buffers.
      expect(measured * 2).toBeLessThanOrEqual(limit);
    } finally {
      child.kill('SIGTERM');
      await fake.close();
    }
  });
});
