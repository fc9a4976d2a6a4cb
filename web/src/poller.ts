/**
 * Runs `tick` again and again: every `fastMs` while it says something is changing, every
 * `slowMs` otherwise, backing off (doubling up to `maxMs`) while it fails, and not at all
 * while the tab is hidden. The page never holds a connection open for status.
 */
export function startPolling(
  tick: () => Promise<'changing' | 'steady'>,
  opts = { fastMs: 1500, slowMs: 10_000, maxMs: 30_000 },
): { now(): void; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let stopped = false;
  let running = false;
  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(run, ms);
  };
  async function run() {
    if (stopped || running) return;
    if (document.hidden) return schedule(opts.slowMs);
    running = true;
    try {
      const state = await tick();
      failures = 0;
      schedule(state === 'changing' ? opts.fastMs : opts.slowMs);
    } catch {
      failures++;
      schedule(Math.min(opts.maxMs, opts.fastMs * 2 ** failures));
    } finally {
      running = false;
    }
  }
  const onVisible = () => {
    if (!document.hidden) void run();
  };
  document.addEventListener('visibilitychange', onVisible);
  void run();
  return {
    now: () => void run(),
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    },
  };
}
