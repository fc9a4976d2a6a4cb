import { randomBytes } from 'node:crypto';
import type { TerminalPath } from './terminal-paths.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `needle` arrives in the path's output (from now on). */
export function outputContains(path: TerminalPath, needle: string, timeoutMs = 60_000) {
  let seen = '';
  let done = false;
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      done = true;
      stop();
      reject(new Error(`timed out waiting for ${needle}`));
    }, timeoutMs);
    const stop = path.onOutput((d) => {
      if (done) return;
      seen = (seen + d.toString('latin1')).slice(-needle.length - 4096);
      if (seen.includes(needle)) {
        done = true;
        clearTimeout(t);
        stop();
        resolve();
      }
    });
  });
}

/**
 * Turns the session into an echo: `cat` on a raw terminal sends each keystroke straight back,
 * so one keystroke's round trip is one byte each way through the whole path. The marker is
 * spelled with quotes so the echoed command line does not match it.
 */
export async function startEcho(path: TerminalPath): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const ready = outputContains(path, `ECHO_${id}`);
  path.write(`stty raw -echo; echo EC''HO_${id}; exec cat\n`);
  await ready;
  await sleep(50); // what the shell prints after the marker
}

/** Echo round trip of `count` keystrokes of `key`, one at a time, `gapMs()` apart. */
export async function keystrokeRtts(
  path: TerminalPath,
  key: string,
  count: number,
  gapMs: () => number = () => 0,
): Promise<number[]> {
  let waiting: (() => void) | null = null;
  const stop = path.onOutput((d) => {
    if (waiting && d.includes(key)) {
      const w = waiting;
      waiting = null;
      w();
    }
  });
  const rtts: number[] = [];
  for (let i = 0; i < count; i++) {
    const gap = gapMs();
    if (gap) await sleep(gap);
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      waiting = resolve;
      path.write(key);
    });
    rtts.push(performance.now() - t0);
  }
  stop();
  return rtts;
}
