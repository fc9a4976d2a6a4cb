import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { RelayProtocolError } from './frames.js';
import { DataFrameReader, readDataFramesFirst } from './ws-data-reader.js';

/** ws's frame parser; exported by ws, not declared by @types/ws. */
const { Receiver } = wsModule as unknown as {
  Receiver: new (opts: { isServer: boolean; binaryType: 'nodebuffer' }) => Writable;
};

/** One server-to-client frame (unmasked), as the relay writes it. */
function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  const size = payload.length;
  const head = size > 65535 ? Buffer.alloc(10) : size > 125 ? Buffer.alloc(4) : Buffer.alloc(2);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (size > 65535) {
    head[1] = 127;
    head.writeUInt32BE(0, 2);
    head.writeUInt32BE(size, 6);
  } else if (size > 125) {
    head[1] = 126;
    head.writeUInt16BE(size, 2);
  } else {
    head[1] = size;
  }
  return Buffer.concat([head, payload]);
}

function relayFrame(tag: number, body: Buffer, trailing = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt16BE(tag, 0);
  head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body, trailing]);
}

/** Feeds `bytes` in chunks of `size` and logs, in order, the DATA handed on and what ws parsed. */
function readInChunks(bytes: Buffer, size: number): { log: [string, Buffer][]; views: Buffer[] } {
  const log: [string, Buffer][] = [];
  const views: Buffer[] = [];
  const receiver = new Receiver({ isServer: false, binaryType: 'nodebuffer' });
  receiver.on('message', (data: Buffer) => log.push(['message', Buffer.from(data)]));
  receiver.on('ping', (data: Buffer) => log.push(['ping', Buffer.from(data)]));
  receiver.on('conclude', (code: number) => log.push(['close', Buffer.of(code >> 8, code & 255)]));
  receiver.on('error', (err: Error) => log.push(['error', Buffer.from(err.message)]));
  const reader = new DataFrameReader(
    (b) => receiver.write(b),
    (payload) => {
      views.push(payload);
      const last = log.at(-1);
      if (last?.[0] === 'data') last[1] = Buffer.concat([last[1], payload]);
      else log.push(['data', Buffer.from(payload)]);
    },
  );
  const chunks = new Set<ArrayBufferLike>();
  for (let at = 0; at < bytes.length; at += size) {
    const part = bytes.subarray(at, at + size);
    const chunk = Buffer.alloc(part.length); // a memory of its own, as each socket chunk has
    part.copy(chunk);
    chunks.add(chunk.buffer);
    reader.write(chunk);
  }
  // Every DATA payload handed on is a view of an incoming chunk, never a copy.
  expect(views.every((view) => chunks.has(view.buffer))).toBe(true);
  return { log, views };
}

describe('reading DATA frames before ws parses the stream', () => {
  const confirm = relayFrame(0x0001, Buffer.from('sid-1'));
  const big = randomBytes(16384);
  const ack = Buffer.alloc(10);
  ack.writeUInt16BE(0x0007, 0);
  ack.writeUInt32BE(1000, 6);
  const small = randomBytes(100);
  const fragmented = relayFrame(0x0004, randomBytes(40));
  const close = Buffer.of(0x03, 0xe8);
  const stream = Buffer.concat([
    frame(2, confirm),
    frame(2, relayFrame(0x0004, big)),
    frame(2, ack),
    frame(9, Buffer.from('hi')),
    frame(2, relayFrame(0x0004, small, Buffer.from('ignored'))),
    frame(2, relayFrame(0x0004, Buffer.alloc(0))),
    frame(2, fragmented.subarray(0, 20), false),
    frame(0, fragmented.subarray(20)),
    frame(2, relayFrame(0x0004, Buffer.from('x'.repeat(70_000)))),
    frame(8, close),
  ]);
  const expected: [string, Buffer][] = [
    ['message', confirm],
    ['data', big],
    ['message', ack],
    ['ping', Buffer.from('hi')],
    ['data', small],
    // A fragmented message is left to ws, whole.
    ['message', fragmented],
    ['data', Buffer.from('x'.repeat(70_000))],
    ['close', close],
  ];

  for (const size of [3, 1000, 16384, stream.length]) {
    it(`hands on DATA payloads and passes every other frame to ws, in order (chunks of ${size} bytes)`, () => {
      expect(readInChunks(stream, size).log).toEqual(expected);
    });
  }

  it('refuses a DATA frame whose length runs past its message', () => {
    const bad = relayFrame(0x0004, randomBytes(10));
    bad.writeUInt32BE(11, 2);
    const reader = new DataFrameReader(
      () => true,
      () => {},
    );
    expect(() => reader.write(frame(2, bad))).toThrow(RelayProtocolError);
  });

  it('leaves masked frames to ws, which refuses them from a server', async () => {
    const masked = frame(2, relayFrame(0x0004, randomBytes(10)));
    masked[1]! |= 0x80;
    const withKey = Buffer.concat([masked.subarray(0, 2), Buffer.alloc(4), masked.subarray(2)]);
    const { log } = readInChunks(withKey, 5);
    await new Promise((r) => setImmediate(r));
    expect(log.map(([kind]) => kind)).toEqual(['error']);
  });

  it('leaves every frame to ws when ws has no parser to read before (another ws release)', () => {
    const withoutParser = {} as unknown as wsModule.WebSocket;
    const installed = readDataFramesFirst(
      withoutParser,
      () => {},
      () => {},
    );
    expect(installed).toBe(false);
  });
});
