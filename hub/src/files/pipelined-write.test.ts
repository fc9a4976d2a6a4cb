import { describe, expect, it } from 'vitest';
import { writeStream } from './pipelined-write.js';
import type { SftpCalls } from './sftp-calls.js';

/**
 * An SFTP handle as ssh2 treats it: `write` copies the bytes into its packet before it returns
 * (the writer reuses its buffer) and the answer comes later.
 */
function fakeFile(writeBytes: number, opts: { failAt?: number } = {}) {
  const file = Buffer.alloc(4 * 1024 * 1024);
  const writes: { position: number; length: number }[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const calls = {
    writeBytes: () => writeBytes,
    write: (_handle: Buffer, data: Buffer, position: number) => {
      writes.push({ position, length: data.length });
      data.copy(file, position);
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      return new Promise<void>((resolve, reject) =>
        setImmediate(() => {
          inFlight--;
          if (opts.failAt !== undefined && position >= opts.failAt)
            reject(Object.assign(new Error('No space left'), { code: 4 }));
          else resolve();
        }),
      );
    },
  } as unknown as SftpCalls;
  return { calls, file, writes, mostInFlight: () => mostInFlight };
}

async function* pieces(data: Buffer, sizes: number[]) {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield new Uint8Array(data.subarray(at, at + size));
    at += size;
  }
}

describe('writeStream', () => {
  it('regroups a body arriving in pieces of any size into WRITEs of the size asked, at their offsets', async () => {
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
    const target = fakeFile(10_000);
    const written = await writeStream(
      target.calls,
      Buffer.alloc(4),
      1000,
      pieces(data, [1, 9_999, 65_536, 3, 20_000, 7]),
    );
    expect(written).toBe(data.length);
    expect(target.file.subarray(1000, 1000 + data.length).equals(data)).toBe(true);
    // Every WRITE but the last carries exactly the size asked, one after another.
    const lengths = target.writes.map((w) => w.length);
    expect(lengths.slice(0, -1).every((n) => n === 10_000)).toBe(true);
    expect(lengths.at(-1)).toBe(data.length % 10_000 || 10_000);
    expect(target.writes.map((w) => w.position)).toEqual(lengths.map((_, i) => 1000 + i * 10_000));
  });

  it('keeps about 2 MiB of WRITEs in flight, not the whole body', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024, 1);
    const target = fakeFile(100_000);
    await writeStream(target.calls, Buffer.alloc(4), 0, pieces(data, [65_536]));
    expect(target.mostInFlight()).toBe(Math.floor((2 * 1024 * 1024) / 100_000));
  });

  it('fails with the first WRITE the agent refused, once the others were answered', async () => {
    const data = Buffer.alloc(1024 * 1024, 2);
    const target = fakeFile(50_000, { failAt: 500_000 });
    await expect(
      writeStream(target.calls, Buffer.alloc(4), 0, pieces(data, [65_536])),
    ).rejects.toMatchObject({ code: 4 });
  });
});
