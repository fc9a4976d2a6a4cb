import type { SftpCalls } from './sftp-calls.js';

const READ_BYTES = 32 * 1024;
/** READs in flight at once (OpenSSH's sftp keeps 64). */
const READ_AHEAD = 64;

/**
 * The bytes `start..end` (inclusive) of an open SFTP handle as a web stream, with many READs in
 * flight; `done` runs once, when the stream ends, fails or is cancelled (closes the handle).
 */
export function readStream(
  calls: SftpCalls,
  handle: Buffer,
  start: number,
  end: number,
  done: () => void,
): ReadableStream<Uint8Array> {
  let next = start;
  const queue: Promise<Buffer>[] = [];
  const fill = () => {
    while (queue.length < READ_AHEAD && next <= end) {
      const length = Math.min(READ_BYTES, end - next + 1);
      const read = calls.read(handle, length, next);
      read.catch(() => undefined); // awaited in order below; never unhandled meanwhile
      queue.push(read);
      next += length;
    }
  };
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      done();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      fill();
      const read = queue.shift();
      if (!read) {
        finish();
        return controller.close();
      }
      try {
        const piece = await read;
        // The file shrank while it was read: what is left of it is all there is.
        if (piece.length === 0) {
          finish();
          return controller.close();
        }
        controller.enqueue(piece);
      } catch (err) {
        finish();
        controller.error(err);
      }
    },
    cancel: finish,
  });
}
