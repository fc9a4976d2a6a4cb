/**
 * The relay subprotocol (`relay.tunnel.cloudproxy.app`): binary WebSocket
 * messages, big-endian, each starting with a u16 tag.
 */
export const SUBPROTOCOL = 'relay.tunnel.cloudproxy.app';
export const MAX_DATA_FRAME = 16 * 1024;

export const Tag = {
  ConnectSuccessSid: 0x0001,
  ReconnectSuccessAck: 0x0002,
  Data: 0x0004,
  Ack: 0x0007,
} as const;

export type RelayFrame =
  | { tag: 'connect-success'; sid: string }
  | { tag: 'reconnect-success'; ack: number }
  | { tag: 'data'; data: Buffer }
  | { tag: 'ack'; ack: number }
  | { tag: 'unknown'; code: number };

export class RelayProtocolError extends Error {
  override name = 'RelayProtocolError';
}

export function encodeAck(totalBytes: number): Buffer {
  const frame = Buffer.allocUnsafe(10);
  frame.writeUInt16BE(Tag.Ack, 0);
  frame.writeBigUInt64BE(BigInt(totalBytes), 2);
  return frame;
}

function need(buf: Buffer, bytes: number, what: string): void {
  if (buf.length < bytes) {
    throw new RelayProtocolError(`truncated ${what} frame (${buf.length} of ${bytes} bytes)`);
  }
}

function readU64(buf: Buffer, what: string): number {
  need(buf, 10, what);
  return Number(buf.readBigUInt64BE(2));
}

function readSized(buf: Buffer, what: string): Buffer {
  need(buf, 6, what);
  const len = buf.readUInt32BE(2);
  need(buf, 6 + len, what);
  return buf.subarray(6, 6 + len);
}

/** Parses one WebSocket message from the relay. Extra trailing bytes are ignored, as gcloud does. */
export function decodeFrame(buf: Buffer): RelayFrame {
  need(buf, 2, 'tag');
  const code = buf.readUInt16BE(0);
  switch (code) {
    case Tag.ConnectSuccessSid:
      return { tag: 'connect-success', sid: readSized(buf, 'CONNECT_SUCCESS_SID').toString() };
    case Tag.ReconnectSuccessAck:
      return { tag: 'reconnect-success', ack: readU64(buf, 'RECONNECT_SUCCESS_ACK') };
    case Tag.Data:
      return { tag: 'data', data: readSized(buf, 'DATA') };
    case Tag.Ack:
      return { tag: 'ack', ack: readU64(buf, 'ACK') };
    default:
      return { tag: 'unknown', code };
  }
}
