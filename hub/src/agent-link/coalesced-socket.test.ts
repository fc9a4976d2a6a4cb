import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCoalesced } from './coalesced-socket.js';

let server: Server;
let port: number;
let received: Promise<Buffer>;
let sock: Socket | null = null;

beforeAll(async () => {
  received = new Promise((resolve) => {
    server = createServer((sock) => {
      const chunks: Buffer[] = [];
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => {
  sock?.destroy();
  return new Promise((resolve) => server.close(resolve));
});

describe('connectCoalesced', () => {
  it('holds the writes of one turn of the event loop and sends them together, in order, at its end', async () => {
    sock = connectCoalesced('127.0.0.1', port);
    await new Promise((resolve) => sock?.once('connect', resolve));
    sock.write(Buffer.from('one,'));
    sock.write(Buffer.from('two,'));
    sock.write('three');
    // Nothing has left yet: the three wait, corked, for the end of this turn.
    expect(sock.writableCorked).toBe(1);
    expect(sock.writableLength).toBe(13);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(sock.writableCorked).toBe(0);
    sock.write(Buffer.from(',four'));
    sock.end();
    expect((await received).toString()).toBe('one,two,three,four');
  });
});
