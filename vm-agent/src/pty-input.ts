import { writeSync } from 'node:fs';

/**
 * Writes keystrokes to a pty master straight away. node-pty queues every write
 * through the libuv thread pool, which costs a thread hop per keystroke; the
 * master is non-blocking, so a direct write either lands or says EAGAIN, and
 * only then do we queue (in order) and retry shortly.
 */
export class PtyInput {
  private readonly queue: Buffer[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly fd: number | undefined;

  constructor(private readonly pty: { write(data: Buffer): void }) {
    const fd = (pty as unknown as { fd?: unknown }).fd;
    this.fd = typeof fd === 'number' ? fd : undefined;
  }

  write(data: Buffer): void {
    if (this.fd === undefined) {
      this.pty.write(data);
      return;
    }
    if (this.queue.length === 0) {
      const written = this.tryWrite(data);
      if (written === data.length) return;
      this.queue.push(data.subarray(written));
    } else {
      this.queue.push(data);
    }
    this.schedule();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private tryWrite(buf: Buffer): number {
    try {
      return writeSync(this.fd as number, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      // EIO/EBADF: the terminal is gone; its exit is reported separately.
      return buf.length;
    }
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      while (this.queue.length) {
        const head = this.queue[0] as Buffer;
        const written = this.tryWrite(head);
        if (written < head.length) {
          this.queue[0] = head.subarray(written);
          this.schedule();
          return;
        }
        this.queue.shift();
      }
    }, 5);
  }
}
