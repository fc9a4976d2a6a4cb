import { randomBytes } from 'node:crypto';
import { HubError, type UploadProgress } from '@workspace-hub/core';
import { writeStream } from './pipelined-write.js';
import {
  fromSftpError,
  isSftpStatus,
  OPEN_MODE,
  type SftpCalls,
  STATUS_CODE,
} from './sftp-calls.js';

export interface UploadChunk {
  /** Destination, relative to the home. */
  path: string;
  /** Names the partial file across requests; required when the file takes several. */
  uploadId: string | undefined;
  /** From `Content-Range`; null: the body is the whole file. */
  range: { first: number; last: number; total: number } | null;
  body: AsyncIterable<Uint8Array>;
}

/**
 * The partial file, beside the destination (so the final rename stays in one file system and
 * is atomic) and hidden; a name over 255 bytes would be refused, so long names are cut.
 */
export function partialPath(path: string, uploadId: string): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  return `${dir}.${Buffer.from(name).subarray(0, 160).toString()}.wsh-upload-${uploadId}`;
}

/** Created if missing, never truncated: the chunks before the last arrive in any order. */
const WRITE_OR_CREATE = OPEN_MODE.WRITE | OPEN_MODE.CREAT;

/**
 * Writes one request's bytes. Each chunk is written at its offset into the partial file, so
 * chunks may be sent concurrently and a chunk that failed is simply sent again; the chunk that
 * completes it (the one ending at the total, sent once every other chunk was answered) renames
 * the partial file over the destination, so nobody ever sees half a file under its name, and
 * any hub instance can take any chunk (the state is the partial file on the agent).
 */
export async function uploadChunk(calls: SftpCalls, chunk: UploadChunk): Promise<UploadProgress> {
  const { path, range } = chunk;
  if (path === '') throw new HubError('invalid_argument', 'path: name a file', { field: 'path' });
  const multi = range !== null && !(range.first === 0 && range.last + 1 === range.total);
  if (multi && !chunk.uploadId)
    throw new HubError(
      'invalid_argument',
      'upload_id: required when a file is sent in several requests',
      { field: 'upload_id' },
    );
  const partial = partialPath(path, chunk.uploadId ?? randomBytes(12).toString('base64url'));
  const first = range?.first ?? 0;
  const complete = range === null || range.last + 1 === range.total;
  const mode = !multi ? 'w' : complete ? 'r+' : WRITE_OR_CREATE;
  const handle = await calls.open(partial, mode).catch((err) => {
    if (mode === 'r+' && isSftpStatus(err, STATUS_CODE.NO_SUCH_FILE))
      throw new HubError(
        'conflict',
        `upload_id: no upload ${chunk.uploadId} of ${path} is under way; start again from byte 0`,
        { field: 'upload_id' },
      );
    throw fromSftpError(err, 'path', path);
  });
  let size: number;
  try {
    // The completing chunk must find every byte before it: a file shorter than its start lacks
    // a chunk (the agent cannot tell a hole inside; the page sends the last chunk after the rest).
    if (mode === 'r+') {
      const have = (await calls.fstat(handle)).size;
      if (have < first)
        throw new HubError(
          'conflict',
          `content-range: the upload has ${have} bytes; send the chunk that starts there`,
          { field: 'content-range' },
        );
    }
    const written = await writeStream(calls, handle, first, chunk.body);
    if (range && written !== range.last - range.first + 1)
      throw new HubError(
        'invalid_argument',
        `content-range: announced ${range.last - range.first + 1} bytes, the body had ${written}`,
        { field: 'content-range' },
      );
    size = range ? range.total : written;
  } catch (err) {
    await calls.close(handle).catch(() => undefined);
    // A whole-file upload's partial file has a name only this request knows: nobody can resume
    // or abandon it.
    if (!multi) await calls.unlink(partial).catch(() => undefined);
    throw err instanceof HubError ? err : fromSftpError(err, 'path', path);
  }
  // Only the completing chunk asks the file's size (one round trip fewer for the others).
  const received = complete
    ? (await calls.fstat(handle).catch(() => ({ size: 0 }))).size
    : first + (range ? range.last - range.first + 1 : 0);
  await calls.close(handle).catch((err) => {
    throw fromSftpError(err, 'path', path);
  });
  if (complete) {
    if (received !== size)
      throw new HubError(
        'conflict',
        `content-range: the upload has ${received} of ${size} bytes; send the missing chunks`,
        { field: 'content-range' },
      );
    await calls.rename(partial, path).catch((err) => {
      throw fromSftpError(err, 'path', path);
    });
  }
  return { path, received, size, complete };
}

/**
 * Abandons an upload: its partial file is removed. Idempotent (a partial already gone, or an
 * upload that had not written yet, is not an error), so the page may call it on any failure.
 */
export async function abortUpload(calls: SftpCalls, path: string, uploadId: string): Promise<void> {
  if (path === '') throw new HubError('invalid_argument', 'path: name a file', { field: 'path' });
  await calls.unlink(partialPath(path, uploadId)).catch((err) => {
    if (!isSftpStatus(err, STATUS_CODE.NO_SUCH_FILE)) throw fromSftpError(err, 'path', path);
  });
}
