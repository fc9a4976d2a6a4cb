import type { RunningHub } from '@workspace-hub/hub';
import type { EmulatorSnapshots } from '@workspace-hub/testing';

/** How often local mode saves the emulator's data when the hub has answered requests since. */
export const SAVE_EVERY_MS = 2000;

/**
 * Keeps the emulator's data of `npm start` on disk: an export every couple of
 * seconds while the hub answers requests (none while it is idle), and a last
 * one when it stops. A crash loses at most the changes since the last export.
 */
export function keepEmulatorData(
  snapshots: EmulatorSnapshots,
  emulatorHost: string,
  hub: Pick<RunningHub, 'answered'>,
  warn: (message: string) => void,
): { final(): Promise<void> } {
  let saved = hub.answered();
  let failing = false;
  const save = async () => {
    const answered = hub.answered();
    try {
      await snapshots.save(emulatorHost);
      saved = answered;
      failing = false;
    } catch (err) {
      // Said once per outage, not every tick.
      if (!failing) warn(`could not save the emulator's data: ${(err as Error).message}`);
      failing = true;
    }
  };
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running || hub.answered() === saved) return;
    running = save().finally(() => {
      running = null;
    });
  }, SAVE_EVERY_MS);
  timer.unref();
  return {
    async final() {
      clearInterval(timer);
      await running;
      await save();
    },
  };
}
