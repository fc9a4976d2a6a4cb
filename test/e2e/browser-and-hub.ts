import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NpmStartHub } from '@workspace-hub/testing';
import { type Browser, chromium } from 'playwright-core';
import { agentProcessesUnder } from '../../client/test/local-hub.js';

/** Debian's Chromium, headless, through playwright-core: the browser every page test here uses. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // Root in CI: Chromium's sandbox needs user namespaces it is not given there.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/** Ends a test file's browser, its `npm start` hub (data under `root/data`) and the hub's agents. */
export async function stopBrowserAndHub(
  browser: Browser | undefined,
  hub: NpmStartHub | undefined,
  root: string | undefined,
): Promise<void> {
  await browser?.close();
  await hub?.stop();
  if (!root) return;
  for (const pid of agentProcessesUnder(join(root, 'data'))) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
}
