import { constants } from 'node:fs';
import {
  FILE_LIST_MAX_ENTRIES,
  type FileEntry,
  type FileListing,
  type FileType,
  readOnlyReason,
} from '@workspace-hub/core';
import type { Attributes } from 'ssh2';
import { isPartialUpload, removeAbandonedUploads } from './abandoned-uploads.js';
import { fromSftpError, isSftpStatus, type SftpCalls, STATUS_CODE } from './sftp-calls.js';

/** SFTP's mode carries POSIX's file type bits, as Linux's stat does. */
export function fileTypeOf(attrs: Attributes): FileType {
  switch (attrs.mode & constants.S_IFMT) {
    case constants.S_IFDIR:
      return 'directory';
    case constants.S_IFREG:
      return 'file';
    case constants.S_IFLNK:
      return 'symlink';
    default:
      return 'other';
  }
}

/** `path` joined under `dir` (both relative to the home; `''` is the home). */
export function childPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/**
 * Where a symlink leads, asked of the agent: a STAT it refuses is a link leading out of the
 * home (shown, never followed), a missing target a dangling link.
 */
async function symlinkOf(calls: SftpCalls, path: string): Promise<FileEntry['symlink']> {
  const target = await calls.readlink(path).catch(() => '');
  try {
    const attrs = await calls.stat(path);
    return { target, status: 'inside', target_type: fileTypeOf(attrs) };
  } catch (err) {
    if (isSftpStatus(err, STATUS_CODE.PERMISSION_DENIED)) return { target, status: 'outside' };
    if (isSftpStatus(err, STATUS_CODE.NO_SUCH_FILE)) return { target, status: 'dangling' };
    throw err;
  }
}

/**
 * The folder's entries, folders first then by name, each with what a file manager shows; the
 * partial files of uploads under way or abandoned are left out, and the abandoned ones removed.
 */
export async function listFolder(calls: SftpCalls, path: string): Promise<FileListing> {
  const raw = await calls.readdir(path === '' ? '.' : path).catch((err) => {
    throw fromSftpError(err, 'path', path);
  });
  const truncated = raw.length > FILE_LIST_MAX_ENTRIES;
  const kept = raw
    .filter((e) => e.filename !== '.' && e.filename !== '..')
    .filter((e) => !isPartialUpload(e))
    .sort((a, b) => a.filename.localeCompare(b.filename))
    .slice(0, FILE_LIST_MAX_ENTRIES);
  const removed = removeAbandonedUploads(calls, raw, (name) => childPath(path, name));
  const entries = await Promise.all(
    kept.map(async (e): Promise<FileEntry> => {
      const type = fileTypeOf(e.attrs);
      const entry: FileEntry = {
        name: e.filename,
        type,
        size: e.attrs.size,
        mtime: new Date(e.attrs.mtime * 1000).toISOString(),
        mode: e.attrs.mode & 0o7777,
      };
      const readOnly = readOnlyReason(childPath(path, e.filename));
      if (readOnly) entry.read_only = readOnly;
      if (type === 'symlink') entry.symlink = await symlinkOf(calls, childPath(path, e.filename));
      return entry;
    }),
  );
  await removed;
  const folderFirst = (e: FileEntry) =>
    e.type === 'directory' || e.symlink?.target_type === 'directory' ? 0 : 1;
  entries.sort((a, b) => folderFirst(a) - folderFirst(b));
  return { path, entries, truncated };
}
