#!/usr/bin/env node
/**
 * A COS boot, run as PID 1 of its own PID and mount namespaces inside the VM's
 * network namespace: lays out COS's file system, carries out the user-data's
 * write_files and runcmd as cloud-init does, and then stays up as the VM; the
 * test ends the boot by killing it, which ends every process it started.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootConfig } from './boot-config.js';
import { journalDir } from './boot-config.js';
import { carryOutInitStage } from './cloud-config.js';
import { layCosFilesystem } from './filesystem.js';

const config = JSON.parse(process.argv[2] ?? '{}') as BootConfig;
const standIns = join(config.stateDir, 'bin');

/** Commands COS has and this host cannot run for real (README: substitutions). */
function installStandIns(): void {
  mkdirSync(standIns, { recursive: true });
  const node = (script: string) =>
    `#!/bin/sh\nexec ${process.execPath} ${new URL(script, import.meta.url).pathname} "$@"\n`;
  const files: Record<string, string> = {
    systemctl: node('./stand-ins/systemctl.js'),
    docker: node('./stand-ins/docker.js'),
    // Registry credentials: the stand-in docker pulls nothing.
    'docker-credential-gcr': '#!/bin/sh\necho "docker-credential-gcr stand-in: $*"\n',
  };
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(standIns, name), content);
    chmodSync(join(standIns, name), 0o755);
  }
}

if (!readFileSync(config.userDataFile, 'utf8').startsWith('#cloud-config\n'))
  throw new Error('user-data does not start with #cloud-config');
mkdirSync(journalDir(config.stateDir), { recursive: true });
installStandIns();
layCosFilesystem({ stateDir: config.stateDir, homeDisk: config.homeDisk });
const runcmd = join(config.stateDir, 'runcmd');
carryOutInitStage(config.userDataFile, runcmd);
const result = spawnSync('/bin/sh', [runcmd], {
  stdio: 'inherit',
  env: {
    PATH: `${standIns}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    LANG: 'C.UTF-8',
    COS_HOST_JOURNAL: journalDir(config.stateDir),
    COS_HOST_AGENT_MAIN: config.agentMain,
  },
  timeout: 60_000,
});
process.stdout.write(`cos-host: runcmd exited ${result.status}\n`);
// PID 1 of the namespace: while it lives, so does everything the boot started.
setInterval(() => {}, 1 << 30);
