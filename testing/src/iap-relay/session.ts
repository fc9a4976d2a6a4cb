import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { ackFrame, parseClientFrame, reconnectSuccessFrame } from './frames.js';
import { dataMessages, writeMessages } from './ws-data-frames.js';

/**
 * One tunnelled TCP connection: it outlives WebSockets, so a client that lost
 * its socket can resume with the byte counts both sides agree on.
 */
export class RelaySession {
  ws: WebSocket | null = null;
  /** Bytes received from the client (and written to the backend). */
  private fromClient = 0;
  /** Of those, bytes the backend has taken (what the relay acknowledges). */
  private writtenToBackend = 0;
  private ackedToClient = 0;
  private ackScheduled = false;
  private backendCorked = false;
  private toClient = 0;
  private confirmedByClient = 0;
  private readonly unconfirmed: Buffer[] = [];
  private unconfirmedBytes = 0;
  private backendEnded = false;
  private expiry: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(
    readonly sid: string,
    private readonly backend: Socket,
    private readonly windowBytes: number,
    private readonly resumeWindowMs: number,
    /** Counts relayed bytes (for drop-after-N hooks); called for both directions. */
    private readonly onBytes: (n: number) => void,
    private readonly onFinished: (s: RelaySession) => void,
  ) {
    backend.on('end', () => {
      this.backendEnded = true;
      this.maybeFinish();
    });
    backend.on('error', () => this.finish(1011, 'backend error'));
    backend.on('close', () => {
      this.backendEnded = true;
      this.maybeFinish();
    });
  }

  /** Attaches a (new) WebSocket; on a reconnect, `clientReceived` is the client's byte count. */
  attach(ws: WebSocket, firstFrame: Buffer, clientReceived?: number): void {
    clearTimeout(this.expiry);
    if (this.ws) this.ws.terminate();
    this.ws = ws;
    if (clientReceived !== undefined) {
      this.confirm(clientReceived);
      this.ackedToClient = this.fromClient;
    }
    ws.send(firstFrame);
    for (const piece of this.unconfirmed) writeMessages(ws, dataMessages(piece).messages);
    ws.on('message', (msg: Buffer) => {
      if (ws !== this.ws) return;
      try {
        const frame = parseClientFrame(msg);
        if (frame.kind === 'ack') this.confirm(frame.total);
        else this.fromClientData(frame.data);
      } catch (err) {
        ws.close(1002, (err as Error).message.slice(0, 120));
      }
    });
    ws.on('close', (code) => {
      if (ws !== this.ws) return;
      this.ws = null;
      if (code === 1000) {
        // The client closed its end: the protocol has no half-close, so the session ends.
        this.backend.end();
        this.finish();
        return;
      }
      // A dropped socket, or the relay asking for a fresh token: the client will resume.
      if (code === 1006 || code === 4004) {
        this.expiry = setTimeout(() => this.finish(), this.resumeWindowMs);
        return;
      }
      this.finish();
    });
    this.maybeFinish();
  }

  /** Counters for diagnosing a stuck transfer in a test. */
  stats() {
    return {
      sid: this.sid,
      fromClient: this.fromClient,
      toClient: this.toClient,
      confirmedByClient: this.confirmedByClient,
      unconfirmedBytes: this.unconfirmedBytes,
      connected: this.ws !== null,
      wsBuffered: this.ws?.bufferedAmount ?? 0,
      backendBuffered: this.backend.writableLength,
      backendPaused: this.backend.isPaused(),
      backendEnded: this.backendEnded,
    };
  }

  reconnectFrame(): Buffer {
    return reconnectSuccessFrame(this.fromClient);
  }

  canResumeFrom(clientReceived: number): boolean {
    return clientReceived >= this.confirmedByClient && clientReceived <= this.toClient;
  }

  /**
   * How much the next read of the backend may take: what is left of the window, but at least
   * 64 KiB (net's usual read, so the window is overrun by at most that) and at most `max`.
   */
  nextReadBytes(max: number): number {
    return Math.min(max, Math.max(64 * 1024, this.windowBytes - this.unconfirmedBytes));
  }

  /**
   * What one read of the backend brought; `chunk` is the backend's read buffer, reused by the
   * next read (`BACKEND_READ_BYTES` in relay.ts), so it is copied into the messages at once.
   */
  fromBackend(chunk: Buffer): void {
    const { messages, pieces } = dataMessages(chunk);
    for (const piece of pieces) {
      this.unconfirmed.push(piece);
      this.unconfirmedBytes += piece.length;
      this.toClient += piece.length;
    }
    if (this.ws) writeMessages(this.ws, messages);
    for (const piece of pieces) this.onBytes(piece.length);
    if (this.unconfirmedBytes >= this.windowBytes) this.backend.pause();
  }

  private fromClientData(data: Buffer): void {
    this.fromClient += data.length;
    // The frames that arrived in this event-loop turn go to the backend in one write (a
    // writev), not one write each: a write to a loopback socket costs the receiver's work too.
    if (!this.backendCorked) {
      this.backendCorked = true;
      this.backend.cork();
      setImmediate(() => {
        this.backendCorked = false;
        this.backend.uncork();
      });
    }
    // Acknowledged once the backend took it, so a slow backend slows the client
    // through the protocol's own window. The WebSocket is never paused for it:
    // that would also stop reading the client's ACKs, and with the backend
    // waiting on us to read its echo, nothing would ever move again.
    this.backend.write(data, () => this.scheduleAck(data.length));
    this.onBytes(data.length);
  }

  private scheduleAck(written: number): void {
    this.writtenToBackend += written;
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      if (this.ws && this.writtenToBackend > this.ackedToClient) {
        this.ackedToClient = this.writtenToBackend;
        this.ws.send(ackFrame(this.writtenToBackend));
      }
    });
  }

  private confirm(total: number): void {
    if (total < this.confirmedByClient || total > this.toClient) {
      this.ws?.close(1002, `ack ${total} outside ${this.confirmedByClient}..${this.toClient}`);
      return;
    }
    let drop = total - this.confirmedByClient;
    while (drop > 0) {
      const head = this.unconfirmed[0]!;
      const n = Math.min(head.length, drop);
      if (n === head.length) this.unconfirmed.shift();
      else this.unconfirmed[0] = head.subarray(n);
      this.unconfirmedBytes -= n;
      drop -= n;
    }
    this.confirmedByClient = total;
    if (this.unconfirmedBytes < this.windowBytes && !this.backendEnded) this.backend.resume();
    this.maybeFinish();
  }

  /** Once the backend has closed and the client holds every byte, close normally. */
  private maybeFinish(): void {
    if (this.backendEnded && this.unconfirmedBytes === 0 && this.ws) this.finish(1000, '');
  }

  /** Drops the WebSocket without a close frame, as a broken network would. */
  drop(): void {
    this.ws?.terminate();
  }

  finish(code?: number, reason = ''): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.expiry);
    const ws = this.ws;
    this.ws = null;
    if (ws && code !== undefined) ws.close(code, reason);
    else ws?.terminate();
    if (!this.backend.destroyed) {
      if (this.backendEnded) this.backend.destroy();
      else this.backend.end();
    }
    this.onFinished(this);
  }
}
