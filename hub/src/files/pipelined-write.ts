import type { SftpCalls } from './sftp-calls.js';

/** Bytes per SFTP WRITE: what OpenSSH's sftp sends, and under ssh2's default packet limit. */
const WRITE_BYTES = 32 * 1024;
/** WRITEs in flight at once, as OpenSSH's sftp keeps 64 (the agent answers them in order). */
const IN_FLIGHT = 64;

/**
 * Writes a byte stream into an open SFTP handle from `start`, keeping many WRITEs in flight
 * instead of waiting for each answer (ssh2's own write of a large buffer waits for each piece).
 * Resolves with the number of bytes written once every WRITE was acknowledged.
 */
export async function writeStream(
  calls: SftpCalls,
  handle: Buffer,
  start: number,
  body: AsyncIterable<Uint8Array>,
): Promise<number> {
  const pending = new Set<Promise<void>>();
  let failure: unknown = null;
  let position = start;
  const send = (piece: Buffer, at: number) => {
    const write = calls.write(handle, piece, at).then(
      () => void pending.delete(write),
      (err) => {
        pending.delete(write);
        failure ??= err;
      },
    );
    pending.add(write);
  };
  for await (const chunk of body) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let off = 0; off < buf.length; off += WRITE_BYTES) {
      if (failure) break;
      while (pending.size >= IN_FLIGHT) await Promise.race(pending);
      const piece = buf.subarray(off, Math.min(off + WRITE_BYTES, buf.length));
      send(piece, position);
      position += piece.length;
    }
    if (failure) break;
  }
  await Promise.all(pending);
  if (failure) throw failure;
  return position - start;
}
