import { readdir, readFile } from 'node:fs/promises';
import { sep } from 'node:path';
import { log } from './log.js';

/** The filesystem type holding `dir`, from the longest matching mount point. */
async function filesystemOf(dir: string): Promise<string | null> {
  try {
    const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').map((l) => l.split(' '));
    let best: { point: string; type: string } | null = null;
    for (const [, point, type] of mounts) {
      if (!point || !type) continue;
      const covers = dir === point || dir.startsWith(point.endsWith(sep) ? point : point + sep);
      if (covers && (!best || point.length > best.point.length)) best = { point, type };
    }
    return best?.type ?? null;
  } catch {
    return null;
  }
}

/**
 * Checks the secrets directory without reading any secret: sessions only get
 * its path, so the agent reports how many files it holds and whether it is
 * memory-backed (a secret on a real disk would outlive the VM).
 */
export async function checkSecretsDir(dir: string): Promise<void> {
  const files = await readdir(dir).catch(() => null);
  const fsType = await filesystemOf(dir);
  const inMemory = fsType === 'tmpfs' || fsType === 'ramfs';
  log(files && inMemory ? 'INFO' : 'WARNING', 'secrets directory', {
    dir,
    files: files?.length ?? null,
    filesystem: fsType,
    problem: !files ? 'missing or unreadable' : inMemory ? undefined : 'not a tmpfs',
  });
}
