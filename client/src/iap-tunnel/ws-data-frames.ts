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

/** Room of a buffer that collects messages while a write is in flight (the default window). */
const PENDING_BYTES = 1024 * 1024;

/**
 * DATA messages written straight to one WebSocket's socket. Node finishes a TLS write only on
 * the next event-loop turn and copies every write queued meanwhile into one buffer before
 * encrypting it; so while one of these writes is in flight, further messages are built straight
 * into one pending buffer, written whole once that write is done (one copy of each byte, the
 * masking one). A WebSocket that is no longer open gets nothing more: the caller resends every
 * unacknowledged piece on the next one.
 */
class DataMessageWriter {
  private inFlight = 0;
  private pending: Buffer | null = null;
  private pendingEnd = 0;

  constructor(private readonly ws: WebSocket) {}

  socket(): Writable | null {
    const socket = (this.ws as unknown as { _socket?: Writable | null })._socket;
    return this.ws.readyState === this.ws.OPEN && socket && !socket.destroyed ? socket : null;
  }

  send(socket: Writable, pieces: readonly Buffer[]): void {
    let first = 0;
    if (this.inFlight === 0) {
      first = Math.min(pieces.length, FRAMES_PER_WRITE);
      this.write(socket, messages(pieces.slice(0, first)));
    }
    for (const piece of pieces.slice(first)) {
      const size = messageLength(piece.length);
      if (this.pending && this.pending.length - this.pendingEnd < size) this.writePending(socket);
      if (!this.pending) {
        this.pending = Buffer.allocUnsafe(Math.max(size, PENDING_BYTES));
        this.pendingEnd = 0;
      }
      this.pendingEnd = putMessage(this.pending, this.pendingEnd, piece);
    }
  }

  private write(socket: Writable, out: Buffer): void {
    this.inFlight++;
    socket.write(out, this.written);
  }

  private writePending(socket: Writable): void {
    if (!this.pending) return;
    const out = this.pending.subarray(0, this.pendingEnd);
    this.pending = null;
    this.write(socket, out);
  }

  private readonly written = () => {
    this.inFlight--;
    if (this.inFlight > 0 || !this.pending) return;
    const socket = this.socket();
    if (socket) this.writePending(socket);
    else this.pending = null;
  };
}

function messages(pieces: readonly Buffer[]): Buffer {
  let size = 0;
  for (const piece of pieces) size += messageLength(piece.length);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const piece of pieces) at = putMessage(out, at, piece);
  return out;
}

const writers = new WeakMap<WebSocket, DataMessageWriter>();

/**
 * Sends `pieces` (each at most 16 KiB) as DATA frames, one complete masked binary WebSocket
 * message each, written to the WebSocket's socket up to 16 frames per buffer, or, while such a
 * write is in flight, into the one buffer written next. On the wire this is what `ws.send` of
 * each DATA frame writes (a random key per frame); ws would copy each frame twice (into a DATA
 * frame, then masked with its header) and write it on its own, which was most of the client's
 * CPU on uploads, over TLS also a copy of every batch of frames before encryption.
 * ws has no public call to write prepared messages: its socket is `_socket`. ws holds a message
 * back only while compressing (perMessageDeflate is off) or reading a Blob (never sent here), so
 * these writes keep their order with ws.send's close frame, which the session sends only once
 * the relay acknowledged every byte; an ACK may overtake pending DATA (it counts the other
 * direction). Returns false when the WebSocket is not open (nothing written: the caller keeps
 * the pieces until acknowledged).
 */
export function writeDataMessages(ws: WebSocket, pieces: readonly Buffer[]): boolean {
  let writer = writers.get(ws);
  if (!writer) {
    writer = new DataMessageWriter(ws);
    writers.set(ws, writer);
  }
  const socket = writer.socket();
  if (!socket) return false;
  writer.send(socket, pieces);
  return true;
}
