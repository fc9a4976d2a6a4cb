import { constants } from 'node:fs';
import type { FileEntryWithStats } from 'ssh2';
import type { SftpCalls } from './sftp-calls.js';

/**
 * An upload's partial file (`partialPath`: `.NAME.wsh-upload-ID`, ID as `upload_id` allows):
 * not a file of the user's until renamed into place. Only regular files are ever taken for one.
 */
const PARTIAL_UPLOAD = /^\..+\.wsh-upload-[A-Za-z0-9_-]{8,64}$/;

export function isPartialUpload(entry: FileEntryWithStats): boolean {
  return (
    (entry.attrs.mode & constants.S_IFMT) === constants.S_IFREG &&
    PARTIAL_UPLOAD.test(entry.filename)
  );
}

/**
 * A partial file nobody wrote for this long belongs to an upload that was abandoned without its
 * `DELETE` (a tab closed mid-upload). Every chunk written moves its mtime, and the page never
 * pauses an upload (a chunk is retried within seconds or the upload is abandoned), so a day
 * leaves any upload still under way alone, a slow link or a clock a little off included.
 */
export const ABANDONED_UPLOAD_MS = 24 * 60 * 60 * 1000;

/**
 * Removes the folder's abandoned partial files (best effort: one that cannot be removed stays
 * until the next listing). The hub does it when it lists the folder, the moment the user would
 * look for the file, so the disk an abandoned upload took comes back without any sweep.
 */
export async function removeAbandonedUploads(
  calls: SftpCalls,
  entries: FileEntryWithStats[],
  pathOf: (name: string) => string,
  now = Date.now(),
): Promise<void> {
  const abandoned = entries.filter(
    (e) => isPartialUpload(e) && now - e.attrs.mtime * 1000 > ABANDONED_UPLOAD_MS,
  );
  await Promise.all(abandoned.map((e) => calls.unlink(pathOf(e.filename)).catch(() => undefined)));
}
