import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../firestore-emulator.js';
import { rsaSigner } from '../tokens.js';
import { bootCosHost, type CosHostOptions, UNOPENED_PORT } from './host.js';

const agentMain = fileURLToPath(new URL('../../../vm-agent/dist/main.js', import.meta.url));
const ours = () =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.startsWith(`wshcos-${process.pid.toString(36)}`));

async function options(userData: string): Promise<CosHostOptions> {
  return {
    userData,
    hubUrl: `http://127.0.0.1:${await freePort()}`,
    vm: {
      project: 'acme-dev',
      zone: 'europe-west1-b',
      instance: 'ws-abcdefgh23',
      serviceAccount: 'vm@acme-dev.iam.gserviceaccount.com',
    },
    signer: rsaSigner(),
    agentMain,
    iapPorts: [2222],
  };
}

describe('the COS-like host', () => {
  it("boots with COS's host firewall: only SSH comes in until the user-data opens a port", async () => {
    const host = await bootCosHost(await options('#cloud-config\nruncmd:\n  - ["true"]\n'));
    try {
      const [fromIap, fromVm, ssh] = await Promise.all([
        host.probe('iap', UNOPENED_PORT),
        host.probe('vm', UNOPENED_PORT),
        host.probe('outside', 22),
      ]);
      expect({ fromIap, fromVm, ssh }).toEqual({
        fromIap: 'dropped',
        fromVm: 'connected',
        ssh: 'refused',
      });
      expect(await host.logs()).toContain('runcmd exited 0');
    } finally {
      await host.close();
    }
    expect(ours()).toEqual([]);
  });

  it('refuses user-data that needs a cloud-init module it does not carry out, and leaves nothing behind', async () => {
    const userData = '#cloud-config\nbootcmd:\n  - [touch, /tmp/never]\nruncmd:\n  - ["true"]\n';
    await expect(bootCosHost(await options(userData))).rejects.toThrow(
      /does not carry out cloud-init's bootcmd/,
    );
    expect(ours()).toEqual([]);
  });
});
