import type { FileEntry } from '@workspace-hub/api';

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

/** `dir` + `name`, as the API spells paths (relative to the home, `''` is the home). */
export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** Whether clicking the entry opens it as a folder (a link to a folder inside the home does). */
export function opensAsFolder(e: FileEntry): boolean {
  return (
    e.type === 'directory' ||
    (e.symlink?.status === 'inside' && e.symlink.target_type === 'directory')
  );
}

export function opensAsFile(e: FileEntry): boolean {
  return e.type === 'file' || (e.symlink?.status === 'inside' && e.symlink.target_type === 'file');
}

/** What a symlink's row says about where it leads. */
export function linkNote(e: FileEntry): string | null {
  if (!e.symlink) return null;
  const where = {
    inside: '',
    outside: ' (outside the home: not followed)',
    dangling: ' (missing)',
  };
  return `→ ${e.symlink.target}${where[e.symlink.status]}`;
}
