import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import type WebSocket from 'ws';
import { MAX_DATA_FRAME, RelayProtocolError, Tag } from './frames.js';

type Mask = (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void;

/** XORs `source` with the 4-byte key into `output` at `offset`: RFC 6455 masking, in JavaScript. */
const maskInJs: Mask = (source, key, output, offset, length) => {
  for (let i = 0; i < length; i++) output[offset + i] = source[i]! ^ key[i & 3]!;
};

/**
 * ws's own native helper (a dependency of the client, loaded from node_modules like ws loads it:
 * the wsh bundle leaves it external); its package falls back to JavaScript when it has no build.
 */
const mask: Mask = (() => {
  try {
    return (createRequire(import.meta.url)('bufferutil') as { mask: Mask }).mask;
  } catch {
    return maskInJs;
  }
})();

/** FIN + binary opcode: each DATA frame is one complete binary WebSocket message. */
const FIN_BINARY = 0x82;
/** The MASK bit every client-to-server frame must carry, with the 16-bit length marker (126). */
const MASKED = 0x80;
const LENGTH_16 = 126;
/** At most this many DATA frames in one buffer, so one large write is not copied whole at once. */
const FRAMES_PER_WRITE = 16;

// Masking keys come from a pool of random bytes, refilled as ws does (a key per frame).
const keyPool = Buffer.alloc(8192);
let keyAt = keyPool.length;
const key = Buffer.alloc(4);
/** The key as it applies from the 7th payload byte on (after the 6-byte DATA header). */
const keyFrom6 = Buffer.alloc(4);

function nextKey(): void {
  if (keyAt === keyPool.length) {
    randomFillSync(keyPool);
    keyAt = 0;
  }
  keyPool.copy(key, 0, keyAt, keyAt + 4);
  keyAt += 4;
  for (let i = 0; i < 4; i++) keyFrom6[i] = key[(i + 6) & 3]!;
}

function messageLength(n: number): number {
  const payload = 6 + n;
  return (payload > 125 ? 4 : 2) + 4 + payload;
}

/** Appends one masked binary message carrying a DATA frame of `piece` to `out` at `at`. */
function putMessage(out: Buffer, at: number, piece: Buffer): number {
  if (piece.length > MAX_DATA_FRAME) {
    throw new RelayProtocolError(`DATA frame of ${piece.length} bytes exceeds ${MAX_DATA_FRAME}`);
  }
  const payload = 6 + piece.length;
  out[at++] = FIN_BINARY;
  if (payload > 125) {
    out[at++] = MASKED | LENGTH_16;
    at = out.writeUInt16BE(payload, at);
  } else {
    out[at++] = MASKED | payload;
  }
  nextKey();
  at += key.copy(out, at);
  const header = out.subarray(at, at + 6);
  header.writeUInt16BE(Tag.Data, 0);
  header.writeUInt32BE(piece.length, 2);
  for (let i = 0; i < 6; i++) header[i]! ^= key[i & 3]!;
  mask(piece, keyFrom6, out, at + 6, piece.length);
  return at + payload;
}

/**
 * Sends `pieces` (each at most 16 KiB) as DATA frames, one complete masked binary WebSocket
 * message each, written to the WebSocket's socket a few frames per buffer. On the wire this is
 * what `ws.send` of each DATA frame writes (a random key per frame); ws would copy each frame
 * twice (into a DATA frame, then masked with its header) and write it on its own, which was most
 * of the client's CPU on uploads, over TLS also a copy of every batch of frames before encryption.
 * ws has no public call to write prepared messages: its socket is `_socket`. ws holds a message
 * back only while compressing (perMessageDeflate is off) or reading a Blob (never sent here), so
 * these writes keep their order with ws.send's (ACKs, the close frame). Returns false when the
 * WebSocket is not open (nothing written: the caller keeps the pieces until acknowledged).
 */
export function writeDataMessages(ws: WebSocket, pieces: readonly Buffer[]): boolean {
  const socket = (ws as unknown as { _socket?: Writable | null })._socket;
  if (ws.readyState !== ws.OPEN || !socket || socket.destroyed) return false;
  for (let first = 0; first < pieces.length; first += FRAMES_PER_WRITE) {
    const batch = pieces.slice(first, first + FRAMES_PER_WRITE);
    let size = 0;
    for (const piece of batch) size += messageLength(piece.length);
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (const piece of batch) at = putMessage(out, at, piece);
    socket.write(out);
  }
  return true;
}
