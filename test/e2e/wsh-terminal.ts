import * as pty from 'node-pty';
import { WSH_MAIN } from '../../client/test/local-hub.js';

export async function waitFor(what: string, check: () => boolean, seconds = 30): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `wsh ssh ARGS…` in a terminal of its own (a pty), as a person would run it; `env` holds the
 * device's WSH_CONFIG_DIR, HOME, WSH_HUB and identity, `who` names it in failures.
 */
export function wshTerminal(args: string[], env: Record<string, string>, who: string) {
  let output = '';
  let exited = false;
  const proc = pty.spawn(process.execPath, [WSH_MAIN, 'ssh', ...args], {
    cols: 100,
    rows: 30,
    env: { ...process.env, ...env } as Record<string, string>,
  });
  proc.onData((d) => {
    output += d;
  });
  proc.onExit(() => {
    exited = true;
  });
  return {
    output: () => output,
    type: (text: string) => proc.write(text),
    waitFor: (text: string) =>
      waitFor(`"${text}" on ${who}'s terminal`, () => output.includes(text)).catch((err: Error) => {
        throw new Error(`${err.message}; it shows: ${JSON.stringify(output.slice(-400))}`);
      }),
    async close() {
      if (!exited) proc.kill('SIGHUP');
      await waitFor(`${who}'s ssh to exit`, () => exited);
    },
  };
}
