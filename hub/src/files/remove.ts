import { HubError } from '@workspace-hub/core';
import { childPath, fileTypeOf } from './listing.js';
import { fromSftpError, type SftpCalls } from './sftp-calls.js';

/** Removes a folder's content depth first; entries are lstat'ed, so a symlink is removed, never followed. */
async function removeTree(calls: SftpCalls, dir: string): Promise<void> {
  const entries = await calls.readdir(dir);
  for (const e of entries) {
    if (e.filename === '.' || e.filename === '..') continue;
    const path = childPath(dir, e.filename);
    if (fileTypeOf(e.attrs) === 'directory') await removeTree(calls, path);
    else await calls.unlink(path);
  }
  await calls.rmdir(dir);
}

/**
 * Deletes a file, a symlink (not what it points to) or a folder: an empty one always, one with
 * content only with `recursive` (409 otherwise, so a client deletes a tree only when asked to).
 * The home itself is never deleted.
 */
export async function removePath(calls: SftpCalls, path: string, recursive: boolean) {
  if (path === '')
    throw new HubError('invalid_argument', 'path: the home directory cannot be deleted', {
      field: 'path',
    });
  try {
    const attrs = await calls.lstat(path);
    if (fileTypeOf(attrs) !== 'directory') return await calls.unlink(path);
    if (recursive) return await removeTree(calls, path);
    await calls.rmdir(path);
  } catch (err) {
    if (!recursive && (err as { message?: string }).message === 'ENOTEMPTY')
      throw new HubError(
        'conflict',
        `path: ${path} is a folder that is not empty; send recursive=true to delete it with its content`,
        { field: 'recursive' },
      );
    throw fromSftpError(err, 'path', path);
  }
}
