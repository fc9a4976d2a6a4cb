import type { SftpCalls } from './sftp-calls.js';

/** Bytes per SFTP WRITE: what OpenSSH's sftp sends, and under ssh2's default packet limit. */
const WRITE_BYTES = 32 * 1024;
/** WRITEs in flight at once, as OpenSSH's sftp keeps 64 (the agent answers them in order). */
const IN_FLIGHT = 64;

/**
 * Cuts each piece of a byte stream into WRITEs of at most `size` bytes, without copying: a
 * socket delivers a request body in pieces of up to 64 KiB, and joining pieces would cost a copy
 * of every byte (the allocations, not the crypto, are what an upload costs the hub).
 */
async function* writePieces(body: AsyncIterable<Uint8Array>, size: number) {
  for await (const chunk of body) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let off = 0; off < buf.length; off += size) yield buf.subarray(off, off + size);
  }
}

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
  let inFlight = 0;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const settled = () => {
    inFlight--;
    wake?.();
  };
  const room = () =>
    new Promise<void>((resolve) => {
      wake = () => {
        wake = null;
        resolve();
      };
    });
  let position = start;
  for await (const piece of writePieces(body, WRITE_BYTES)) {
    while (inFlight >= IN_FLIGHT && !failure) await room();
    if (failure) break;
    inFlight++;
    calls.write(handle, piece, position).then(settled, (err) => {
      failure ??= err;
      settled();
    });
    position += piece.length;
  }
  while (inFlight > 0) await room();
  if (failure) throw failure;
  return position - start;
}
