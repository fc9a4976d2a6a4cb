import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { percentile } from '../lib/results.js';

export interface PathResult {
  name: string;
  /** null: the echo did not finish within the path's time limit. */
  mbPerSec: number | null;
  downloadMBps: number;
  /** CPU time of this process (the client and the target) per download / echo, ms. */
  downloadCpuMs: number;
  echoCpuMs: number | null;
  /** CPU time of the relay's process per download / echo, ms (null: no relay on this path). */
  relayDownloadCpuMs: number | null;
  relayEchoCpuMs: number | null;
  p50Ms: number;
  p99Ms: number;
}

/** Reads a stream until `bytes` arrived; MB/s. */
export async function downloadThroughput(stream: Duplex, bytes: number): Promise<number> {
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    let got = 0;
    stream.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= bytes) resolve();
    });
    stream.once('error', reject);
    stream.once('end', () =>
      got >= bytes ? resolve() : reject(new Error(`ended after ${got} of ${bytes} bytes`)),
    );
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return bytes / (1024 * 1024) / seconds;
}

/** `work`'s result, or null when it takes longer than `ms` (then it is abandoned). */
async function within<T>(ms: number, work: Promise<T>): Promise<T | null> {
  work.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<null>((r) => {
    timer = setTimeout(() => r(null), ms);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Writes `bytes` through an echo and reads them all back; MB/s of payload (each way). */
export async function echoThroughput(stream: Duplex, bytes: number): Promise<number> {
  const block = randomBytes(256 * 1024);
  const start = process.hrtime.bigint();
  const done = new Promise<void>((resolve, reject) => {
    let got = 0;
    const onData = (c: Buffer) => {
      got += c.length;
      if (got >= bytes) {
        stream.off('data', onData);
        resolve();
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
  // Awaited below; until then an error must not count as unhandled (it ends the drain wait too).
  done.catch(() => {});
  for (let sent = 0; sent < bytes; sent += block.length) {
    if (!stream.write(block.subarray(0, Math.min(block.length, bytes - sent)))) {
      await Promise.race([new Promise((r) => stream.once('drain', r)), done]);
    }
  }
  await done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return bytes / (1024 * 1024) / seconds;
}

/** Sequential round trips of a small message through an echo; sorted milliseconds. */
export async function roundTrips(stream: Duplex, count: number, size = 64): Promise<number[]> {
  const msg = randomBytes(size);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      let got = 0;
      const onData = (c: Buffer) => {
        got += c.length;
        if (got >= size) {
          stream.off('data', onData);
          stream.off('error', reject);
          resolve();
        }
      };
      stream.on('data', onData);
      stream.once('error', reject);
      stream.write(msg);
    });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

export async function measurePath(
  name: string,
  open: { echo: () => Promise<Duplex>; download: () => Promise<Duplex> },
  opts: { bytes: number; trips: number; echoLimitMs?: number },
  /** The relay's process CPU usage, when the path goes through one. */
  relayCpu?: () => Promise<NodeJS.CpuUsage>,
): Promise<PathResult> {
  const latencyStream = await open.echo();
  await roundTrips(latencyStream, 50); // warm-up
  const trips = await roundTrips(latencyStream, opts.trips);
  latencyStream.destroy();
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  const relayMs = async () => {
    const used = await relayCpu?.();
    return used ? (used.user + used.system) / 1000 : null;
  };
  const relaySince = async (start: number | null) => {
    const now = await relayMs();
    return now === null || start === null ? null : now - start;
  };
  const downloadStream = await open.download();
  const relayDownloadStart = await relayMs();
  const downloadCpu = process.cpuUsage();
  const downloadMBps = await downloadThroughput(downloadStream, opts.bytes);
  const downloadCpuMs = cpuMs(downloadCpu);
  const relayDownloadCpuMs = await relaySince(relayDownloadStart);
  downloadStream.destroy();
  const bulkStream = await open.echo();
  const relayEchoStart = await relayMs();
  const echoCpu = process.cpuUsage();
  const mbPerSec = await within(
    opts.echoLimitMs ?? 600_000,
    echoThroughput(bulkStream, opts.bytes),
  );
  const echoCpuMs = mbPerSec === null ? null : cpuMs(echoCpu);
  const relayEchoCpuMs = mbPerSec === null ? null : await relaySince(relayEchoStart);
  bulkStream.destroy();
  return {
    name,
    mbPerSec,
    downloadMBps,
    downloadCpuMs,
    echoCpuMs,
    relayDownloadCpuMs,
    relayEchoCpuMs,
    p50Ms: percentile(trips, 50),
    p99Ms: percentile(trips, 99),
  };
}
