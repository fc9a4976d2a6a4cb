import type { Writable } from 'node:stream';
import type WebSocket from 'ws';
import { RELAY_MAX_DATA } from './frames.js';

/** FIN + binary opcode: each DATA frame is one complete binary WebSocket message, as ws sends it. */
const FIN_BINARY = 0x82;
/** The 7-bit length field's marker for "a 16-bit length follows" (payloads of 126..65535 bytes). */
const LENGTH_16 = 126;

/** Bytes of one server-to-client (unmasked) WebSocket message carrying a DATA frame of `n` bytes. */
function messageLength(n: number): number {
  const payload = 6 + n;
  return (payload > 125 ? 4 : 2) + payload;
}

/**
 * Writes DATA frames carrying `pieces` (each at most RELAY_MAX_DATA bytes) as WebSocket
 * messages, all in one buffer and one socket write. The bytes are exactly what `ws.send` of
 * each DATA frame would write (unmasked binary messages, FIN set); what changes is the cost:
 * ws.send writes each message on its own (two writes: header and frame), which over TLS is an
 * SSL_write per message after the frame was copied once more into its own buffer, and its
 * per-message JavaScript was most of the fake's CPU on bulk downloads. ws has no public call
 * to write prepared messages: its socket is `_socket`. Returns false when the WebSocket is
 * not open (nothing written: the pieces wait for a reconnect like any unacknowledged data).
 */
export function writeDataMessages(ws: WebSocket, pieces: readonly Buffer[]): boolean {
  const socket = (ws as unknown as { _socket?: Writable | null })._socket;
  if (ws.readyState !== ws.OPEN || !socket || socket.destroyed) return false;
  let size = 0;
  for (const piece of pieces) size += messageLength(piece.length);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const piece of pieces) {
    if (piece.length > RELAY_MAX_DATA) throw new Error(`relay fake: DATA of ${piece.length} bytes`);
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
    at += piece.copy(out, at);
  }
  socket.write(out);
  return true;
}
