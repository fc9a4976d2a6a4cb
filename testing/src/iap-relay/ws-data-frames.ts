import type { Writable } from 'node:stream';
import type WebSocket from 'ws';
import { RELAY_MAX_DATA } from './frames.js';

/** FIN + binary opcode: each DATA frame is one complete binary WebSocket message, as ws sends it. */
const FIN_BINARY = 0x82;
/** The 7-bit length field's marker for "a 16-bit length follows" (payloads of 126..65535 bytes). */
const LENGTH_16 = 126;
/** Room of a buffer that collects messages while a write is in flight (about a window's worth). */
const PENDING_BYTES = 1024 * 1024;

/** Bytes of the server-to-client (unmasked) WebSocket messages carrying `n` bytes as DATA frames. */
function messagesLength(n: number): number {
  let size = 0;
  for (let at = 0; at < n; at += RELAY_MAX_DATA) {
    const payload = 6 + Math.min(RELAY_MAX_DATA, n - at);
    size += (payload > 125 ? 4 : 2) + payload;
  }
  return size;
}

/**
 * Copies `data` into `out` at `at` as DATA frames of at most RELAY_MAX_DATA bytes, each the
 * WebSocket message `ws.send` of that frame would write (unmasked binary, FIN set). Pushes
 * onto `pieces` views of the payloads inside `out`; returns where the messages end.
 */
function putDataMessages(out: Buffer, at: number, data: Buffer, pieces: Buffer[]): number {
  for (let from = 0; from < data.length; from += RELAY_MAX_DATA) {
    const piece = data.subarray(from, from + RELAY_MAX_DATA);
    const payload = 6 + piece.length;
    out[at++] = FIN_BINARY;
    if (payload > 125) {
      out[at++] = LENGTH_16;
      at = out.writeUInt16BE(payload, at);
    } else {
      out[at++] = payload;
    }
    at = out.writeUInt16BE(0x0004, at);
    at = out.writeUInt32BE(piece.length, at);
    pieces.push(out.subarray(at, at + piece.length));
    at += piece.copy(out, at);
  }
  return at;
}

/**
 * DATA frames carrying `data`, as `ws.send` of each would write them, all in one buffer.
 * `data` is copied; `pieces` are views of the payloads inside `messages`.
 */
export function dataMessages(data: Buffer): { messages: Buffer; pieces: Buffer[] } {
  const messages = Buffer.allocUnsafe(messagesLength(data.length));
  const pieces: Buffer[] = [];
  putDataMessages(messages, 0, data, pieces);
  return { messages, pieces };
}

/**
 * Writes DATA messages straight to one WebSocket's socket. ws.send writes each message on its
 * own (header and frame, after copying the frame), over TLS an SSL_write each, and that
 * per-message work was most of the fake's CPU on bulk downloads. Node finishes a TLS write
 * only on the next event-loop turn and joins (copies) every write queued meanwhile into one
 * buffer before encrypting it; so while one of these writes is in flight, further messages
 * are built straight into one pending buffer, written whole once that write is done.
 * ws has no public call to write prepared messages: its socket is `_socket`. ws holds a message
 * back only while compressing (perMessageDeflate is off) or reading a Blob (never sent here), so
 * these writes keep their order with ws.send's ACKs, which may overtake pending DATA (an ACK
 * counts the other direction). Nothing pending is written once the WebSocket is closing: the
 * session resends every unacknowledged piece on the next WebSocket.
 */
export class DataMessageWriter {
  private inFlight = 0;
  private pending: Buffer | null = null;
  private pendingEnd = 0;

  constructor(private readonly ws: WebSocket) {}

  private socket(): Writable | null {
    const socket = (this.ws as unknown as { _socket?: Writable | null })._socket;
    return this.ws.readyState === this.ws.OPEN && socket && !socket.destroyed ? socket : null;
  }

  /**
   * Sends `data` as DATA messages (copied, so `data` may be a reused read buffer) and returns
   * views of the pieces to keep until the client acknowledges them. When the WebSocket is not
   * open nothing is written, and the pieces are still returned.
   */
  send(data: Buffer): Buffer[] {
    const pieces: Buffer[] = [];
    const size = messagesLength(data.length);
    const socket = this.socket();
    if (!socket || this.inFlight === 0) {
      const messages = Buffer.allocUnsafe(size);
      putDataMessages(messages, 0, data, pieces);
      if (socket) this.write(socket, messages);
      return pieces;
    }
    if (this.pending && this.pending.length - this.pendingEnd < size) this.writePending(socket);
    if (!this.pending) {
      this.pending = Buffer.allocUnsafe(Math.max(size, PENDING_BYTES));
      this.pendingEnd = 0;
    }
    this.pendingEnd = putDataMessages(this.pending, this.pendingEnd, data, pieces);
    return pieces;
  }

  /** Writes already-built messages (a resend on a new WebSocket) after anything pending. */
  sendMessages(messages: Buffer): void {
    const socket = this.socket();
    if (!socket) return;
    this.writePending(socket);
    this.write(socket, messages);
  }

  private write(socket: Writable, messages: Buffer): void {
    this.inFlight++;
    socket.write(messages, this.written);
  }

  private writePending(socket: Writable): void {
    if (!this.pending) return;
    const messages = this.pending.subarray(0, this.pendingEnd);
    this.pending = null;
    this.write(socket, messages);
  }

  private readonly written = () => {
    this.inFlight--;
    if (this.inFlight > 0 || !this.pending) return;
    const socket = this.socket();
    if (socket) this.writePending(socket);
    else this.pending = null;
  };
}
