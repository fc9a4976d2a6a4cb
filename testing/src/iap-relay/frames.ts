/** Server side of the relay subprotocol, written apart from the client so the two check each other. */
export const RELAY_SUBPROTOCOL = 'relay.tunnel.cloudproxy.app';
export const RELAY_MAX_DATA = 16384;

export function connectSuccessFrame(sid: string): Buffer {
  const id = Buffer.from(sid);
  const frame = Buffer.alloc(6 + id.length);
  frame.writeUInt16BE(0x0001, 0);
  frame.writeUInt32BE(id.length, 2);
  id.copy(frame, 6);
  return frame;
}

function u64Frame(tag: number, value: number): Buffer {
  const frame = Buffer.alloc(10);
  frame.writeUInt16BE(tag, 0);
  frame.writeBigUInt64BE(BigInt(value), 2);
  return frame;
}

export const reconnectSuccessFrame = (received: number) => u64Frame(0x0002, received);
export const ackFrame = (received: number) => u64Frame(0x0007, received);

export type ClientFrame = { kind: 'data'; data: Buffer } | { kind: 'ack'; total: number };

export function parseClientFrame(msg: Buffer): ClientFrame {
  if (msg.length < 2) throw new Error('relay fake: message shorter than a tag');
  const tag = msg.readUInt16BE(0);
  if (tag === 0x0004) {
    const len = msg.readUInt32BE(2);
    if (len > RELAY_MAX_DATA) throw new Error(`relay fake: DATA frame of ${len} bytes`);
    if (msg.length < 6 + len) throw new Error('relay fake: truncated DATA frame');
    return { kind: 'data', data: msg.subarray(6, 6 + len) };
  }
  if (tag === 0x0007) {
    if (msg.length < 10) throw new Error('relay fake: truncated ACK frame');
    return { kind: 'ack', total: Number(msg.readBigUInt64BE(2)) };
  }
  throw new Error(`relay fake: unexpected tag 0x${tag.toString(16)} from the client`);
}
