import { describe, expect, it } from 'vitest';
import { RingBuffer } from './ring-buffer.js';

describe('RingBuffer', () => {
  it('keeps everything until full, then only the newest bytes in order', () => {
    const ring = new RingBuffer(20_000);
    const chunks = Array.from({ length: 50 }, (_, i) =>
      Buffer.from(`${String(i).padStart(4, '0')}:${'x'.repeat(995)}|`),
    );
    for (const c of chunks) ring.write(c);
    const all = Buffer.concat(chunks);
    expect(ring.size).toBe(20_000);
    expect(ring.contents().equals(all.subarray(all.length - 20_000))).toBe(true);
  });

  it('takes a chunk larger than its capacity by keeping its tail', () => {
    const ring = new RingBuffer(1024);
    ring.write(Buffer.from('head'));
    const big = Buffer.alloc(5000, 'a');
    big.write('TAIL', 4996);
    ring.write(big);
    expect(ring.contents().toString().endsWith('TAIL')).toBe(true);
    expect(ring.size).toBe(1024);
  });
});
