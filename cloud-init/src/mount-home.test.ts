import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCloudConfig } from './render.js';
import { fullSpec } from './test-specs.js';
import { runScriptWithStubs, writtenFile } from './test-support.js';

let dir: string;
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cloud-init-mount-'));
  script = await writtenFile(dir, renderCloudConfig(fullSpec), '/etc/workspace-hub/mount-home.sh');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * In a private mount namespace, a tmpfs /dev holds a block-device node at the
 * path GCE gives the home disk, so the script finds "its" disk; blkid answers
 * with the given status, and nothing touches a real device.
 */
function boot(blkidStatus: number, e2fsckStatus = 0) {
  const prelude = [
    'set -e',
    'mount -t tmpfs tmpfs /dev',
    'mknod -m 666 /dev/null c 1 3',
    'mkdir -p /dev/disk/by-id',
    'mknod /dev/disk/by-id/google-home b 7 250',
    'set +e',
  ].join('\n');
  return runScriptWithStubs(
    dir,
    script,
    {
      blkid: blkidStatus,
      'mkfs.ext4': 0,
      e2fsck: e2fsckStatus,
      mountpoint: 1,
      mount: 0,
      mkdir: 0,
      chown: 0,
      chmod: 0,
    },
    { prelude, unshareMounts: true },
  );
}

const names = (calls: string[][]) => calls.map((call) => call[0]);

describe('mount-home.sh', () => {
  it('formats a blank disk, mounts it and gives it to the workspace user', async () => {
    const { calls, exitCode } = await boot(2);
    expect(exitCode).toBe(0);
    expect(calls).toContainEqual(
      expect.arrayContaining(['mkfs.ext4', '/dev/disk/by-id/google-home']),
    );
    expect(calls).toContainEqual([
      'mount',
      '-t',
      'ext4',
      '-o',
      'defaults,discard',
      '/dev/disk/by-id/google-home',
      '/mnt/stateful_partition/homes/ada',
    ]);
    expect(calls).toContainEqual(['chown', '4242:4242', '/mnt/stateful_partition/homes/ada']);
    expect(names(calls).indexOf('mkfs.ext4')).toBeLessThan(names(calls).indexOf('mount'));
  });

  it('mounts an existing file system without formatting or re-owning it', async () => {
    const { calls, exitCode } = await boot(0);
    expect(exitCode).toBe(0);
    expect(names(calls)).not.toContain('mkfs.ext4');
    expect(names(calls)).not.toContain('chown');
    expect(names(calls)).toContain('mount');
  });

  it('refuses to format when blkid fails for another reason', async () => {
    const { calls, exitCode } = await boot(4);
    expect(exitCode).not.toBe(0);
    expect(names(calls)).not.toContain('mkfs.ext4');
    expect(names(calls)).not.toContain('mount');
  });

  it('does not mount a file system e2fsck could not repair', async () => {
    const { calls, exitCode } = await boot(0, 8);
    expect(exitCode).not.toBe(0);
    expect(names(calls)).not.toContain('mount');
  });
});
