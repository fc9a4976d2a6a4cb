import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const mount = (...args: string[]) => execFileSync('mount', args, { stdio: 'inherit' });

function overlay(target: string, stateDir: string): void {
  const upper = join(stateDir, 'overlay', basename(target), 'upper');
  const work = join(stateDir, 'overlay', basename(target), 'work');
  mkdirSync(upper, { recursive: true });
  mkdirSync(work, { recursive: true });
  mount(
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${target},upperdir=${upper},workdir=${work}`,
    target,
  );
}

function mknod(path: string, type: 'b' | 'c', major: number, minor: number, mode: string) {
  execFileSync('mknod', ['-m', mode, path, type, String(major), String(minor)]);
}

/**
 * Lays out, in this process's private mount namespace, the file system a COS
 * boot gives cloud-init ("Disks and file system overview"): a stateless `/etc`
 * (here an overlay on the host's, so nothing reaches the host's), fresh tmpfs
 * `/run`, `/home` and `/mnt` (with `/mnt/disks`), and a `/dev` of its own whose
 * only disk is `homeDisk` (a loop device on a temporary file) at GCE's
 * `/dev/disk/by-id/google-home`. No real disk is visible to the user-data.
 */
export function layCosFilesystem(opts: { stateDir: string; homeDisk: string }): void {
  const disk = statSync(opts.homeDisk);
  if (!disk.isBlockDevice()) throw new Error(`${opts.homeDisk} is not a block device`);
  const diskName = basename(opts.homeDisk);

  overlay('/etc', opts.stateDir);
  // GCE's DHCP/DNS answers this name with the metadata server's link-local address.
  writeFileSync(
    '/etc/hosts',
    '127.0.0.1 localhost\n169.254.169.254 metadata.google.internal metadata\n',
  );
  for (const dir of ['/run', '/home', '/mnt'])
    mount('-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', dir);
  mkdirSync('/mnt/disks');
  mkdirSync('/mnt/stateful_partition');

  mount('-t', 'tmpfs', '-o', 'mode=0755,nosuid', 'tmpfs', '/dev');
  mknod('/dev/null', 'c', 1, 3, '666');
  mknod('/dev/zero', 'c', 1, 5, '666');
  mknod('/dev/full', 'c', 1, 7, '666');
  mknod('/dev/random', 'c', 1, 8, '666');
  mknod('/dev/urandom', 'c', 1, 9, '666');
  mknod('/dev/tty', 'c', 5, 0, '666');
  mkdirSync('/dev/pts');
  // A devpts of its own: the agent's terminals get ptys here, not among the host's.
  mount('-t', 'devpts', '-o', 'newinstance,ptmxmode=0666,mode=0620', 'devpts', '/dev/pts');
  symlinkSync('pts/ptmx', '/dev/ptmx');
  mkdirSync('/dev/shm');
  mount('-t', 'tmpfs', '-o', 'mode=1777,nosuid,nodev', 'tmpfs', '/dev/shm');
  for (const [name, target] of [
    ['fd', '/proc/self/fd'],
    ['stdin', '/proc/self/fd/0'],
    ['stdout', '/proc/self/fd/1'],
    ['stderr', '/proc/self/fd/2'],
  ] as const)
    symlinkSync(target, `/dev/${name}`);
  const major = Math.floor(disk.rdev / 256);
  const minor = disk.rdev % 256;
  mknod(`/dev/${diskName}`, 'b', major, minor, '660');
  mkdirSync('/dev/disk/by-id', { recursive: true });
  // As udev names an attached persistent disk: google-<deviceName>, a link to the device.
  symlinkSync(`../../${diskName}`, '/dev/disk/by-id/google-home');
}
