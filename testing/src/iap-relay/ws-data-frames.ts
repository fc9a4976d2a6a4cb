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
 * DATA frames carrying `data`, cut into pieces of at most RELAY_MAX_DATA bytes, as the WebSocket
 * messages `ws.send` of each DATA frame would write (unmasked binary messages, FIN set), all in
 * one buffer. `data` is copied, so it may be a read buffer that is reused; `pieces` are views of
 * the payloads inside `messages`, to keep until the client acknowledges them.
 */
export function dataMessages(data: Buffer): { messages: Buffer; pieces: Buffer[] } {
  let size = 0;
  for (let at = 0; at < data.length; at += RELAY_MAX_DATA)
    size += messageLength(Math.min(RELAY_MAX_DATA, data.length - at));
  const messages = Buffer.allocUnsafe(size);
  const pieces: Buffer[] = [];
  let out = 0;
  for (let at = 0; at < data.length; at += RELAY_MAX_DATA) {
    const piece = data.subarray(at, at + RELAY_MAX_DATA);
    const payload = 6 + piece.length;
    messages[out++] = FIN_BINARY;
    if (payload > 125) {
      messages[out++] = LENGTH_16;
      out = messages.writeUInt16BE(payload, out);
    } else {
      messages[out++] = payload;
    }
    out = messages.writeUInt16BE(0x0004, out);
    out = messages.writeUInt32BE(piece.length, out);
    pieces.push(messages.subarray(out, out + piece.length));
    out += piece.copy(messages, out);
  }
  return { messages, pieces };
}

/**
 * Writes prepared messages to the WebSocket's socket in one write. ws.send writes each message
 * on its own (two writes: header and frame, after the frame was copied into its own buffer),
 * over TLS an SSL_write each, and that per-message work was most of the fake's CPU on bulk
 * downloads. ws has no public call to write prepared messages: its socket is `_socket`. ws
 * holds a message back only while compressing (perMessageDeflate is off) or reading a Blob (never
 * sent here), so these writes keep their order with ws.send's (ACKs, the close frame).
 * Returns false when the WebSocket is not open (nothing written).
 */
export function writeMessages(ws: WebSocket, messages: Buffer): boolean {
  const socket = (ws as unknown as { _socket?: Writable | null })._socket;
  if (ws.readyState !== ws.OPEN || !socket || socket.destroyed) return false;
  socket.write(messages);
  return true;
}
