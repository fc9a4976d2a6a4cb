import type { SftpCalls } from './sftp-calls.js';

/**
 * Bytes of WRITEs in flight at once per upload, as OpenSSH's sftp keeps 64 × 32 KiB: the agent's
 * SSH window (2 MiB) is then never idle waiting for the hub, and more would only wait in ssh2's
 * buffer for the window (the page sends 3 chunks at once on one channel). The agent answers the
 * WRITEs of one handle in order.
 */
const IN_FLIGHT_BYTES = 2 * 1024 * 1024;

/**
 * Regroups a byte stream into WRITEs of `size` bytes (the last one shorter). A socket delivers a
 * request body in pieces of up to 64 KiB; each WRITE, its answer and the agent's write(2) cost
 * about the same whatever their length, so a few long ones cost far less than many short ones.
 * A piece that holds a whole WRITE is sent without a copy. What it yields is valid until the next
 * piece is asked for: pieces are gathered in one buffer, reused (ssh2 copies a WRITE's bytes into
 * its packet before `write` returns), so an upload allocates no buffer per WRITE here.
 */
async function* writePieces(body: AsyncIterable<Uint8Array>, size: number) {
  const staged = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of body) {
    let rest = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (rest.length > 0) {
      if (filled === 0 && rest.length >= size) {
        yield rest.subarray(0, size);
        rest = rest.subarray(size);
        continue;
      }
      const copied = rest.copy(staged, filled);
      filled += copied;
      rest = rest.subarray(copied);
      if (filled === size) {
        yield staged;
        filled = 0;
      }
    }
  }
  if (filled > 0) yield staged.subarray(0, filled);
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
  const size = calls.writeBytes(handle);
  const inFlightMax = Math.max(1, Math.floor(IN_FLIGHT_BYTES / size));
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
  for await (const piece of writePieces(body, size)) {
    while (inFlight >= inFlightMax && !failure) await room();
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
