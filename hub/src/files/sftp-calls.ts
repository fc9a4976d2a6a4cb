import { HubError } from '@workspace-hub/core';
import type { Attributes, FileEntryWithStats, OpenMode, SFTPWrapper } from 'ssh2';
import { writeBytesFor } from './sftp-write-size.js';

/**
 * The SFTP status codes the file routes tell apart (SSH_FX_*, draft-ietf-secsh-filexfer-02
 * §7; the values of ssh2's `utils.sftp.STATUS_CODE`). Written out so the routes load without
 * ssh2: it loads with agent-link's first connection, not at the hub's cold start.
 */
export const STATUS_CODE = { NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4 } as const;
/** The open flags the upload uses (SSH_FXF_*, the same draft §6.3; ssh2's `OPEN_MODE`). */
export const OPEN_MODE = { WRITE: 0x02, CREAT: 0x08 } as const;

/**
 * An SFTP failure as the problem a user reads. The agent answers PERMISSION_DENIED for anything
 * outside the home (a symlink leading out included), NO_SUCH_FILE for a missing path, and
 * FAILURE with the errno name otherwise; an error without a status is the connection's.
 */
export function fromSftpError(err: unknown, field: string, path: string): HubError {
  const { code, message } = err as { code?: unknown; message?: string };
  const shown = path === '' ? 'the home directory' : path;
  if (code === STATUS_CODE.NO_SUCH_FILE)
    return new HubError('not_found', `${field}: ${shown} does not exist`, { field });
  if (code === STATUS_CODE.PERMISSION_DENIED)
    return new HubError(
      'permission_denied',
      `${field}: ${shown} is outside the home directory or not permitted`,
      { field },
    );
  if (code === STATUS_CODE.FAILURE) {
    const reason = ERRNO_REASONS[message ?? ''];
    if (reason) return new HubError('conflict', `${field}: ${shown} ${reason}`, { field });
    return new HubError('internal', `${field}: the agent failed on ${shown}: ${message}`, {
      field,
    });
  }
  return new HubError(
    'agent_unreachable',
    `the workspace agent did not answer: ${message ?? String(err)}`,
    {},
    { cause: err },
  );
}

const ERRNO_REASONS: Record<string, string> = {
  EEXIST: 'already exists',
  ENOTEMPTY: 'is a folder that is not empty',
  ENOTDIR: 'is not a folder (or a part of it is not)',
  EISDIR: 'is a folder',
  EXDEV: 'is on another file system',
  ENOSPC: 'cannot be written: the disk is full',
};

export function isSftpStatus(err: unknown, status: number): boolean {
  return (err as { code?: unknown }).code === status;
}

type Callback<T> = (err: Error | null | undefined, value: T) => void;

/** ssh2's callback API as promises, one per SFTP request the file routes make. */
export function sftpCalls(sftp: SFTPWrapper) {
  const call = <T>(start: (cb: Callback<T>) => void) =>
    new Promise<T>((resolve, reject) =>
      start((err, value) => (err ? reject(err) : resolve(value))),
    );
  return {
    stat: (path: string) => call<Attributes>((cb) => sftp.stat(path, cb)),
    lstat: (path: string) => call<Attributes>((cb) => sftp.lstat(path, cb)),
    readlink: (path: string) => call<string>((cb) => sftp.readlink(path, cb)),
    readdir: (path: string) => call<FileEntryWithStats[]>((cb) => sftp.readdir(path, cb)),
    mkdir: (path: string) => call<void>((cb) => sftp.mkdir(path, (err) => cb(err, undefined))),
    rename: (from: string, to: string) =>
      call<void>((cb) => sftp.rename(from, to, (err) => cb(err, undefined))),
    unlink: (path: string) => call<void>((cb) => sftp.unlink(path, (err) => cb(err, undefined))),
    rmdir: (path: string) => call<void>((cb) => sftp.rmdir(path, (err) => cb(err, undefined))),
    open: (path: string, flags: OpenMode | number) =>
      call<Buffer>((cb) => sftp.open(path, flags, cb)),
    close: (handle: Buffer) => call<void>((cb) => sftp.close(handle, (err) => cb(err, undefined))),
    fstat: (handle: Buffer) => call<Attributes>((cb) => sftp.fstat(handle, cb)),
    write: (handle: Buffer, data: Buffer, position: number) =>
      call<void>((cb) =>
        sftp.write(handle, data, 0, data.length, position, (err) => cb(err, undefined)),
      ),
    /** The bytes a WRITE on `handle` should carry (see sftp-write-size.ts). */
    writeBytes: (handle: Buffer) => writeBytesFor(sftp, handle),
    read: (handle: Buffer, length: number, position: number) =>
      call<Buffer>((cb) =>
        sftp.read(handle, Buffer.allocUnsafe(length), 0, length, position, (err, n, buf) =>
          cb(err, buf.subarray(0, n)),
        ),
      ),
  };
}
export type SftpCalls = ReturnType<typeof sftpCalls>;
