/**
 * Keeps the last `capacity` bytes written, for replay on attach. Storage
 * grows on demand so an idle session with little output stays small.
 */
export class RingBuffer {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.length;
  }

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.reserve(this.length + chunk.length);
    const cap = this.buf.length;
    if (chunk.length >= cap) {
      chunk.copy(this.buf, 0, chunk.length - cap);
      this.start = 0;
      this.length = cap;
      return;
    }
    const end = (this.start + this.length) % cap;
    const first = Math.min(chunk.length, cap - end);
    chunk.copy(this.buf, end, 0, first);
    if (first < chunk.length) chunk.copy(this.buf, 0, first);
    const overflow = this.length + chunk.length - cap;
    if (overflow > 0) {
      this.start = (this.start + overflow) % cap;
      this.length = cap;
    } else {
      this.length += chunk.length;
    }
  }

  /** A copy of the retained bytes, oldest first. */
  contents(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    const first = Math.min(this.length, this.buf.length - this.start);
    this.buf.copy(out, 0, this.start, this.start + first);
    if (first < this.length) this.buf.copy(out, first, 0, this.length - first);
    return out;
  }

  private reserve(wanted: number): void {
    if (wanted <= this.buf.length || this.buf.length === this.capacity) return;
    let next = Math.max(this.buf.length * 2, 16 * 1024);
    while (next < wanted) next *= 2;
    const grown = Buffer.allocUnsafe(Math.min(next, this.capacity));
    const data = this.contents();
    data.copy(grown, 0);
    this.buf = grown;
    this.start = 0;
  }
}
