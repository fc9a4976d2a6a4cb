import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const emulatorModule = fileURLToPath(new URL('../dist/firestore-emulator.js', import.meta.url));

async function answers(host: string): Promise<boolean> {
  try {
    return (await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

describe('startFirestoreEmulator', () => {
  it('takes the emulator down with it when its process is killed outright', async () => {
    // A process that starts an emulator, prints where, and waits to be killed (as a test run
    // cut short would be): no stop() ever runs.
    const owner = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { startFirestoreEmulator } = await import(${JSON.stringify(emulatorModule)});
         const e = await startFirestoreEmulator();
         console.log(e.host);
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const host = await new Promise<string>((resolve) =>
      createInterface({ input: owner.stdout! }).once('line', resolve),
    );
    expect(await answers(host)).toBe(true);

    owner.kill('SIGKILL');
    let up = true;
    for (let i = 0; i < 100 && up; i++) {
      await new Promise((r) => setTimeout(r, 100));
      up = await answers(host);
    }
    expect(up).toBe(false);
  }, 60_000);
});
