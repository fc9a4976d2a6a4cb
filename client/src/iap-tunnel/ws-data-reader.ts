import type { Writable } from 'node:stream';
import type WebSocket from 'ws';
import { RelayProtocolError, Tag } from './frames.js';

/** FIN bit, reserved bits, opcode mask, the binary opcode and continuation opcode (RFC 6455). */
const FIN = 0x80;
const RSV = 0x70;
const OPCODE = 0x0f;
const BINARY = 0x2;
const CONTINUATION = 0x0;
const MASKED = 0x80;
/** The DATA frame's own header: u16 tag + u32 length. */
const DATA_HEADER = 6;

type State = 'header' | 'data-header' | 'data' | 'skip' | 'pass';

/**
 * Reads the relay's DATA frames off a WebSocket's byte stream before ws parses them, and hands
 * their payload on as views of the socket's chunks. Over TLS a chunk holds at most 16 KiB and a
 * DATA message 16394 bytes, so nearly every message straddles two chunks, and ws copies each
 * into a buffer of its own before emitting it: that copy and its garbage were the largest cost
 * left in the client's download path that TLS itself does not impose. Every other frame (the
 * session confirmation, ACKs, pings, the close frame, anything fragmented, masked or with
 * reserved bits) goes to ws's parser byte for byte, in order, so ws still answers pings, runs
 * the close handshake and refuses what RFC 6455 refuses. Only whole unfragmented binary
 * messages whose tag is DATA are taken; ws emits messages synchronously (its default for
 * clients), so what is handed on keeps its order with ws's 'message' events.
 */
export class DataFrameReader {
  private state: State = 'header';
  /** The frame header (and, for a DATA candidate, the DATA header) collected so far. */
  private readonly head = Buffer.allocUnsafe(14 + DATA_HEADER);
  private headLength = 0;
  private headNeeded = 2;
  /** Bytes left of the current state's part of the frame. */
  private left = 0;
  /** Bytes of the DATA payload after its header that follow the data (ignored, as gcloud does). */
  private trailing = 0;
  /** Inside a fragmented message: its frames all go to ws. */
  private fragmented = false;

  constructor(
    private readonly passOn: (bytes: Buffer) => boolean,
    private readonly onData: (payload: Buffer) => void,
  ) {}

  /** Takes the WebSocket's incoming bytes; returns false when ws's parser asks for a pause. */
  write(chunk: Buffer): boolean {
    let ok = true;
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'header' || this.state === 'data-header') {
        const n = Math.min(this.headNeeded - this.headLength, chunk.length - at);
        chunk.copy(this.head, this.headLength, at, at + n);
        this.headLength += n;
        at += n;
        if (this.headLength === this.headNeeded) ok = this.headerComplete() && ok;
        continue;
      }
      const n = Math.min(this.left, chunk.length - at);
      const part = chunk.subarray(at, at + n);
      at += n;
      this.left -= n;
      if (this.state === 'pass') ok = this.passOn(part) && ok;
      else if (this.state === 'data' && n > 0) this.onData(part);
      if (this.left === 0) this.partDone();
    }
    return ok;
  }

  private headerComplete(): boolean {
    const head = this.head;
    if (this.state === 'data-header') {
      if (head.readUInt16BE(this.headNeeded - DATA_HEADER) !== Tag.Data) return this.pass();
      const length = head.readUInt32BE(this.headNeeded - DATA_HEADER + 2);
      if (length > this.left) {
        throw new RelayProtocolError(
          `truncated DATA frame (${this.left + DATA_HEADER} of ${length + DATA_HEADER} bytes)`,
        );
      }
      this.trailing = this.left - length;
      this.left = length;
      this.state = 'data';
      if (length === 0) this.partDone();
      return true;
    }
    const second = head[1]!;
    const lengthBytes = (second & 0x7f) === 126 ? 2 : (second & 0x7f) === 127 ? 8 : 0;
    const size = 2 + lengthBytes + (second & MASKED ? 4 : 0);
    if (this.headNeeded < size) {
      this.headNeeded = size;
      return true;
    }
    const length =
      lengthBytes === 2
        ? head.readUInt16BE(2)
        : lengthBytes === 8
          ? head.readUInt32BE(2) * 2 ** 32 + head.readUInt32BE(6)
          : second & 0x7f;
    const first = head[0]!;
    const opcode = first & OPCODE;
    this.left = length;
    if (
      (first & FIN) !== 0 &&
      (first & RSV) === 0 &&
      opcode === BINARY &&
      (second & MASKED) === 0 &&
      !this.fragmented &&
      length >= DATA_HEADER
    ) {
      this.state = 'data-header';
      this.headNeeded = size + DATA_HEADER;
      this.left = length - DATA_HEADER;
      return true;
    }
    if (opcode < 0x8)
      this.fragmented = (first & FIN) === 0 || (this.fragmented && opcode !== CONTINUATION);
    return this.pass();
  }

  /** Hands what was collected of this frame to ws, and the rest of it as it comes. */
  private pass(): boolean {
    const ok = this.passOn(Buffer.from(this.head.subarray(0, this.headLength)));
    this.state = 'pass';
    if (this.left === 0) this.partDone();
    return ok;
  }

  private partDone(): void {
    if (this.state === 'data' && this.trailing > 0) {
      this.state = 'skip';
      this.left = this.trailing;
      this.trailing = 0;
      return;
    }
    this.state = 'header';
    this.headLength = 0;
    this.headNeeded = 2;
  }
}

/**
 * Puts a DataFrameReader in front of ws's parser for this WebSocket (call on 'open', before any
 * byte arrives). ws has no public hook for this: its parser is `_receiver`, a Writable that ws
 * feeds with `write(chunk)` from the socket's 'data' events and once more on close. After a
 * malformed DATA frame (`onError`), nothing more is read. Returns false, and leaves every frame
 * to ws (whose whole DATA messages the tunnel also takes), when a ws release has no such parser:
 * slower, never broken.
 */
export function readDataFramesFirst(
  ws: WebSocket,
  onData: (payload: Buffer) => void,
  onError: (err: Error) => void,
): boolean {
  const receiver = (ws as unknown as { _receiver?: Writable | null })._receiver;
  if (typeof receiver?.write !== 'function') return false;
  const write = receiver.write.bind(receiver) as (chunk: Buffer) => boolean;
  const reader = new DataFrameReader(write, onData);
  let failed = false;
  receiver.write = ((chunk: Buffer) => {
    if (failed) return true;
    try {
      return reader.write(chunk);
    } catch (err) {
      failed = true;
      onError(err as Error);
      return true;
    }
  }) as Writable['write'];
  return true;
}
