import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The two cloud-init modules our user-data uses, carried out by cloud-init's
 * own code (Debian's `cloud-init` package): `cc_write_files.write_files` for
 * the init stage, then `util.shellify` for runcmd, whose script the final stage
 * runs with /bin/sh. Any other top-level key is refused: user-data that relies
 * on a module this host does not carry out would pass here and fail on COS.
 */
const STAGES = `
import os, sys
from cloudinit import util
from cloudinit.config.cc_write_files import write_files
cfg = util.load_yaml(open(sys.argv[1]).read())
if not isinstance(cfg, dict):
    sys.exit("user-data is not a cloud-config mapping")
other = sorted(set(cfg) - {"write_files", "runcmd"})
if other:
    sys.exit("the COS-like host does not carry out cloud-init's " + ", ".join(other))
files = cfg.get("write_files", [])
if any(util.get_cfg_option_bool(f, "defer", False) for f in files):
    sys.exit("deferred write_files are not carried out")
write_files("write_files", files, "root:root")
util.write_file(sys.argv[2], util.shellify(cfg.get("runcmd", [])), 0o700)
`;

/** The Python that Debian's cloud-init runs under (its shebang): another one lacks its modules. */
function cloudInitPython(): string {
  const bin = execFileSync('sh', ['-c', 'command -v cloud-init'], { encoding: 'utf8' }).trim();
  const shebang = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  return /^#!\s*(\S+)/.exec(shebang)?.[1] ?? 'python3';
}

/** Writes the user-data's files (as root, into this mount namespace) and the runcmd script. */
export function carryOutInitStage(userDataFile: string, runcmdScript: string): void {
  execFileSync(cloudInitPython(), ['-c', STAGES, userDataFile, runcmdScript], { stdio: 'inherit' });
}
