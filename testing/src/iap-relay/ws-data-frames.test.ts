import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import WebSocket, * as wsModule from 'ws';
import { DataMessageWriter } from './ws-data-frames.js';

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

/** Parses server-to-client WebSocket frames as a client must (ws refuses masked ones). */
function clientSide(bytes: Buffer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const messages: Buffer[] = [];
    const receiver = new Receiver({ isServer: false, binaryType: 'nodebuffer' });
    receiver.on('message', (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(true);
      messages.push(Buffer.from(data));
    });
    receiver.on('error', reject);
    receiver.write(bytes, () => resolve(messages));
  });
}

describe("the relay fake's DATA messages", () => {
  it('are what ws.send of each DATA frame writes, in order, with what arrives during a write joined into one more write', async () => {
    const { ws, writes } = tlsLikeSocket();
    const writer = new DataMessageWriter(ws);
    const reads = [randomBytes(40_000), randomBytes(100), randomBytes(20_000), randomBytes(5)];
    const pieces = reads.map((read) => writer.send(read));
    // The first read goes out at once; the rest waited for it, built into one buffer.
    expect(writes).toHaveLength(1);
    await turn();
    expect(writes).toHaveLength(2);
    await turn();
    expect(writes).toHaveLength(2);

    const messages = await clientSide(Buffer.concat(writes));
    const expected = reads.flatMap((read) => {
      const cut: Buffer[] = [];
      for (let at = 0; at < read.length; at += 16384) cut.push(read.subarray(at, at + 16384));
      return cut;
    });
    expect(messages.map((m) => m.readUInt16BE(0))).toEqual(expected.map(() => 0x0004));
    expect(messages.map((m) => m.subarray(6))).toEqual(expected);
    expect(messages.map((m) => m.readUInt32BE(2))).toEqual(expected.map((p) => p.length));
    expect(pieces.flat()).toEqual(expected);
  });

  it('keeps copies of the pieces, so the read buffer can be reused at once', () => {
    const { ws } = tlsLikeSocket();
    const writer = new DataMessageWriter(ws);
    const read = Buffer.alloc(1000, 1);
    const [first] = writer.send(read);
    const [second] = writer.send(read);
    read.fill(2);
    expect(first).toEqual(Buffer.alloc(1000, 1));
    expect(second).toEqual(Buffer.alloc(1000, 1));
  });

  it('writes nothing more once the WebSocket is closing, yet still returns the pieces to resend', async () => {
    const { ws, writes } = tlsLikeSocket();
    const writer = new DataMessageWriter(ws);
    writer.send(randomBytes(10));
    const pending = writer.send(randomBytes(20));
    (ws as unknown as { readyState: number }).readyState = WebSocket.CLOSING;
    await turn();
    await turn();
    expect(writes).toHaveLength(1);
    expect(pending.map((p) => p.length)).toEqual([20]);
  });
});
