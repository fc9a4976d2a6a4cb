import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { closeCodeError, handshakeError, IapTunnelError } from './errors.js';
import {
  decodeFrame,
  encodeAck,
  MAX_DATA_FRAME,
  RelayProtocolError,
  SUBPROTOCOL,
} from './frames.js';
import { connectUrl, type ResolvedTunnelOptions, reconnectUrl } from './options.js';
import { CLIENT_VERSION } from './version.js';
import { writeDataMessages } from './ws-data-frames.js';
import { readDataFramesFirst } from './ws-data-reader.js';

const ORIGIN = 'bot:iap-tunneler';
/**
 * Who is calling, as Google's own tunnel client (gcloud) says in its User-Agent:
 * Google's front ends log it, and support asks for it when a tunnel misbehaves.
 */
export const USER_AGENT = `workspace-hub-wsh/${CLIENT_VERSION} iap-tunnel node/${process.versions.node}`;
/** Acknowledge at once past this many unacknowledged received bytes; below it, once per event-loop turn. */
const ACK_EAGERLY_AFTER = 2 * MAX_DATA_FRAME;
const NORMAL_CLOSE = 1000;
/** ws reports a socket that vanished without a close frame as 1006. */
const ABNORMAL_CLOSE = 1006;
const REAUTHENTICATE = 4004;

/**
 * One TCP connection to an instance's port through the IAP relay, as a Duplex.
 * Bytes are numbered in each direction; the relay acknowledges what it got, so
 * after a dropped WebSocket the session resumes from exactly those counters.
 * The protocol has no half-close: ending the writable side closes the session
 * once the relay has acknowledged everything written.
 */
export class IapTunnelStream extends Duplex {
  private ws: WebSocket | null = null;
  private sid: string | null = null;
  private live = false;
  private received = 0;
  private acked = 0;
  private ackScheduled = false;
  private confirmed = 0;
  private sent = 0;
  private readonly unconfirmed: Buffer[] = [];
  private unconfirmedBytes = 0;
  private waitingWrite: ((err?: Error | null) => void) | null = null;
  private waitingFinal: ((err?: Error | null) => void) | null = null;
  private inboundPaused = false;
  private closingByUs = false;
  private reconnecting = false;
  private resumed = 0;

  constructor(private readonly opts: ResolvedTunnelOptions) {
    super({ allowHalfOpen: false });
  }

  /** Opens the session; rejects with an IapTunnelError when the relay refuses it. */
  async open(): Promise<void> {
    await this.openSocket(false);
  }

  get sessionId(): string | null {
    return this.sid;
  }

  /** How many times the session was resumed on a new WebSocket. */
  get reconnects(): number {
    return this.resumed;
  }

  private async openSocket(resume: boolean): Promise<void> {
    const token = await this.opts.getToken();
    if (this.destroyed) throw new IapTunnelError('IAP tunnel: closed while connecting', undefined);
    const url = resume ? reconnectUrl(this.opts, this.sid!, this.received) : connectUrl(this.opts);
    const ws = new WebSocket(url, SUBPROTOCOL, {
      headers: { Authorization: `Bearer ${token}`, 'User-Agent': USER_AGENT },
      origin: ORIGIN,
      perMessageDeflate: false,
      handshakeTimeout: this.opts.connectTimeoutMs,
      rejectUnauthorized: !this.opts.insecureSkipVerify,
    });
    ws.binaryType = 'nodebuffer';
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      const timer = setTimeout(
        () =>
          fail(
            new IapTunnelError(
              'IAP tunnel: the relay did not confirm the session in time',
              undefined,
            ),
          ),
        this.opts.connectTimeoutMs,
      );
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        fail(handshakeError(res.statusCode ?? 0, res.statusMessage ?? ''));
      });
      ws.on('error', (err) =>
        fail(new IapTunnelError(`IAP tunnel: cannot reach the relay: ${err.message}`, undefined)),
      );
      ws.on('close', (code, reason) => {
        if (!settled) {
          const why = reason.toString();
          fail(
            code === ABNORMAL_CLOSE
              ? new IapTunnelError(
                  'IAP tunnel: the relay dropped the connection while opening the session',
                  code,
                )
              : closeCodeError(code, why),
          );
          return;
        }
        this.onSocketClosed(ws, code, reason.toString());
      });
      ws.once('open', () =>
        readDataFramesFirst(
          ws,
          (data) => {
            if (!settled)
              fail(new RelayProtocolError('expected the session confirmation, got data'));
            else this.onData(ws, data);
          },
          (err) => {
            if (!settled) fail(err);
            else this.destroy(err);
          },
        ),
      );
      ws.on('message', (raw: Buffer) => {
        try {
          const frame = decodeFrame(raw);
          if (!settled) {
            if (frame.tag === 'connect-success' && !resume) {
              this.sid = frame.sid;
            } else if (frame.tag === 'reconnect-success' && resume) {
              this.confirm(frame.ack);
            } else {
              throw new RelayProtocolError(`expected the session confirmation, got ${frame.tag}`);
            }
            settled = true;
            clearTimeout(timer);
            if (this.destroyed) {
              ws.close(NORMAL_CLOSE);
              reject(new IapTunnelError('IAP tunnel: closed while connecting', undefined));
              return;
            }
            this.attach(ws, resume);
            resolve();
            return;
          }
          this.onFrame(ws, frame);
        } catch (err) {
          if (!settled) fail(err as Error);
          else this.destroy(err as Error);
        }
      });
    });
  }

  private attach(ws: WebSocket, resume: boolean): void {
    this.ws = ws;
    this.live = true;
    if (resume) {
      // The reconnect URL carried our byte count, so the relay knows it already.
      this.acked = this.received;
      this.resumed++;
      writeDataMessages(ws, this.unconfirmed);
    }
    if (this.inboundPaused) ws.pause();
  }

  private onFrame(ws: WebSocket, frame: ReturnType<typeof decodeFrame>): void {
    if (ws !== this.ws) return;
    switch (frame.tag) {
      case 'data':
        this.onData(ws, frame.data);
        return;
      case 'ack':
        this.confirm(frame.ack);
        return;
      case 'unknown':
        return; // gcloud discards unknown tags too, so the relay may add some
      default:
        throw new RelayProtocolError(`unexpected ${frame.tag} frame on an open session`);
    }
  }

  /** DATA from the relay: whole frames from ws, or parts of them from readDataFramesFirst. */
  private onData(ws: WebSocket, data: Buffer): void {
    if (ws !== this.ws) return;
    this.received += data.length;
    this.scheduleAck();
    if (!this.push(data)) {
      this.inboundPaused = true;
      ws.pause();
    }
  }

  private scheduleAck(): void {
    if (this.received - this.acked >= ACK_EAGERLY_AFTER) {
      this.sendAck();
      return;
    }
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      this.sendAck();
    });
  }

  private sendAck(): void {
    if (!this.live || !this.ws || this.received === this.acked) return;
    this.ws.send(encodeAck(this.received));
    this.acked = this.received;
  }

  /** The relay has everything up to `total`: forget it, and let waiting writes go on. */
  private confirm(total: number): void {
    if (total < this.confirmed || total > this.sent) {
      throw new RelayProtocolError(
        `ack of ${total} bytes is outside ${this.confirmed}..${this.sent}`,
      );
    }
    let drop = total - this.confirmed;
    while (drop > 0) {
      const head = this.unconfirmed[0]!;
      if (head.length <= drop) {
        this.unconfirmed.shift();
        drop -= head.length;
        this.unconfirmedBytes -= head.length;
      } else {
        this.unconfirmed[0] = head.subarray(drop);
        this.unconfirmedBytes -= drop;
        drop = 0;
      }
    }
    this.confirmed = total;
    if (this.waitingWrite && this.unconfirmedBytes < this.opts.maxUnackedBytes) {
      const cb = this.waitingWrite;
      this.waitingWrite = null;
      cb();
    }
    if (this.waitingFinal && this.unconfirmedBytes === 0) {
      const cb = this.waitingFinal;
      this.waitingFinal = null;
      this.closeSession(cb);
    }
  }

  private onSocketClosed(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = null;
    this.live = false;
    if (this.closingByUs || this.destroyed) {
      this.push(null);
      return;
    }
    if (code === NORMAL_CLOSE) {
      // The instance closed the TCP connection; everything it sent has arrived.
      this.push(null);
      this.releaseWaiters();
      return;
    }
    if (code === ABNORMAL_CLOSE || code === REAUTHENTICATE) {
      void this.resumeSession();
      return;
    }
    this.destroy(closeCodeError(code, reason));
  }

  private releaseWaiters(): void {
    const write = this.waitingWrite;
    const final = this.waitingFinal;
    this.waitingWrite = null;
    this.waitingFinal = null;
    write?.();
    final?.();
  }

  private async resumeSession(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    const deadline = Date.now() + this.opts.reconnectTimeoutMs;
    let delay = 50;
    try {
      for (;;) {
        if (this.destroyed) return;
        try {
          await this.openSocket(true);
          return;
        } catch (err) {
          const fatal =
            err instanceof RelayProtocolError ||
            (err instanceof IapTunnelError &&
              (err.authFailure ||
                (err.code !== undefined && err.code >= 4000 && err.code !== REAUTHENTICATE)));
          if (fatal || Date.now() + delay > deadline) {
            const why = err instanceof Error ? err.message : String(err);
            this.destroy(
              fatal
                ? (err as Error)
                : new IapTunnelError(`IAP tunnel: could not resume the session: ${why}`, undefined),
            );
            return;
          }
          await sleep(delay);
          delay = Math.min(delay * 2, 2000);
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._writev([{ chunk }], cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    if (this.readableEnded && !this.ws && !this.reconnecting) {
      cb(new IapTunnelError('IAP tunnel: the remote end closed the connection', undefined));
      return;
    }
    const pieces: Buffer[] = [];
    for (const { chunk } of chunks)
      for (let at = 0; at < chunk.length; at += MAX_DATA_FRAME) {
        const piece = chunk.subarray(at, at + MAX_DATA_FRAME);
        pieces.push(piece);
        this.unconfirmed.push(piece);
        this.unconfirmedBytes += piece.length;
        this.sent += piece.length;
      }
    if (this.live && this.ws) writeDataMessages(this.ws, pieces);
    if (this.unconfirmedBytes >= this.opts.maxUnackedBytes) this.waitingWrite = cb;
    else cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.unconfirmedBytes === 0 || this.readableEnded) this.closeSession(cb);
    else this.waitingFinal = cb;
  }

  private closeSession(cb: (err?: Error | null) => void): void {
    this.closingByUs = true;
    if (this.ws) {
      this.sendAck();
      this.ws.close(NORMAL_CLOSE);
    } else {
      this.push(null);
    }
    cb();
  }

  override _read(): void {
    if (!this.inboundPaused) return;
    this.inboundPaused = false;
    this.ws?.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const ws = this.ws;
    this.ws = null;
    this.live = false;
    // A close frame, even on error, so the relay ends the instance-side connection at once
    // instead of holding the session open for a reconnect that will never come.
    if (ws?.readyState === WebSocket.OPEN) ws.close(NORMAL_CLOSE);
    else ws?.terminate();
    this.releaseWaiters();
    cb(err);
  }
}
