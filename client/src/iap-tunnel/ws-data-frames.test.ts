import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import WebSocket, * as wsModule from 'ws';
import { RelayProtocolError } from './frames.js';
import { writeDataMessages } from './ws-data-frames.js';

/** What writeDataMessages needs of a WebSocket: open, with a socket that records the bytes. */
function recordingSocket(): { ws: WebSocket; written: () => Buffer } {
  const socket = new PassThrough();
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const ws = { readyState: WebSocket.OPEN, OPEN: WebSocket.OPEN, _socket: socket };
  return { ws: ws as unknown as WebSocket, written: () => Buffer.concat(chunks) };
}

/**
 * A WebSocket whose socket finishes each write on the next event-loop turn, as Node's TLS
 * socket does, and records what each write carried.
 */
function tlsLikeSocket(): { ws: WebSocket; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const socket = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(Buffer.from(chunk));
      setImmediate(cb);
    },
  });
  const ws = { readyState: WebSocket.OPEN, OPEN: WebSocket.OPEN, _socket: socket };
  return { ws: ws as unknown as WebSocket, writes };
}

const turn = () => new Promise((r) => setImmediate(r));

/** ws's frame parser; exported by ws, not declared by @types/ws. */
const { Receiver } = wsModule as unknown as {
  Receiver: new (opts: { isServer: boolean; binaryType: 'nodebuffer' }) => Writable;
};

/** Parses client-to-server WebSocket frames as a server must (ws refuses unmasked ones). */
function serverSide(bytes: Buffer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const messages: Buffer[] = [];
    const receiver = new Receiver({ isServer: true, binaryType: 'nodebuffer' });
    receiver.on('message', (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(true);
      messages.push(Buffer.from(data));
    });
    receiver.on('error', reject);
    receiver.write(bytes, () => resolve(messages));
  });
}

describe('DATA frames the client writes itself', () => {
  it('are masked binary WebSocket messages of at most 16 KiB each, with a fresh key per frame', async () => {
    const pieces = [randomBytes(16384), randomBytes(16384), randomBytes(100), randomBytes(3)];
    const { ws, written } = recordingSocket();
    expect(writeDataMessages(ws, pieces)).toBe(true);
    await new Promise((r) => setImmediate(r));
    const bytes = written();
    const messages = await serverSide(bytes);
    expect(messages).toHaveLength(pieces.length);
    messages.forEach((m, i) => {
      expect(m.readUInt16BE(0)).toBe(0x0004);
      expect(m.readUInt32BE(2)).toBe(pieces[i]!.length);
      expect(m.subarray(6).equals(pieces[i]!)).toBe(true);
    });
    // Each frame's header: FIN + binary, MASK set, then its own 4-byte key.
    const keys: string[] = [];
    let at = 0;
    for (const piece of pieces) {
      expect(bytes[at]).toBe(0x82);
      expect(bytes[at + 1]! & 0x80).toBe(0x80);
      const extended = (bytes[at + 1]! & 0x7f) === 126 ? 2 : 0;
      keys.push(bytes.subarray(at + 2 + extended, at + 6 + extended).toString('hex'));
      at += 6 + extended + 6 + piece.length;
    }
    expect(at).toBe(bytes.length);
    expect(new Set(keys).size).toBe(pieces.length);
  });

  it('refuses a piece larger than the relay accepts in one DATA frame', () => {
    const { ws } = recordingSocket();
    expect(() => writeDataMessages(ws, [randomBytes(16385)])).toThrow(RelayProtocolError);
  });

  it('writes nothing while the WebSocket is not open', () => {
    const { ws, written } = recordingSocket();
    (ws as unknown as { readyState: number }).readyState = WebSocket.CLOSING;
    expect(writeDataMessages(ws, [randomBytes(10)])).toBe(false);
    expect(written().length).toBe(0);
  });

  it('builds what is sent while a write is in flight into one more write, in order', async () => {
    const { ws, writes } = tlsLikeSocket();
    const first = Array.from({ length: 20 }, () => randomBytes(16384));
    const second = [randomBytes(700), randomBytes(16384)];
    expect(writeDataMessages(ws, first)).toBe(true);
    expect(writeDataMessages(ws, second)).toBe(true);
    // 16 frames at once; the other 4 and the next call's 2 waited for that write, in one buffer.
    expect(writes).toHaveLength(1);
    await turn();
    expect(writes).toHaveLength(2);
    await turn();
    expect(writes).toHaveLength(2);
    const messages = await serverSide(Buffer.concat(writes));
    expect(messages.map((m) => m.subarray(6))).toEqual([...first, ...second]);
  });

  it('writes nothing pending once the WebSocket is closing (its pieces are resent on the next one)', async () => {
    const { ws, writes } = tlsLikeSocket();
    writeDataMessages(ws, [randomBytes(10)]);
    writeDataMessages(ws, [randomBytes(20)]);
    (ws as unknown as { readyState: number }).readyState = WebSocket.CLOSING;
    await turn();
    await turn();
    expect(writes).toHaveLength(1);
  });
});
