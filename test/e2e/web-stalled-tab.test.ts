import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type NpmStartHub, startNpmStart } from '@workspace-hub/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runWsh } from '../../client/test/local-hub.js';
import { launchChromium, stopBrowserAndHub } from './browser-and-hub.js';
import { wshTerminal } from './wsh-terminal.js';

/**
 * A browser tab that stops reading (its script paused, as a sleeping laptop's) must not freeze the session for an ssh client attached beside it: the agent lets the
 * tab go after its grace, and the page, once it runs again, says why and attaches again.
 */
const EMAIL = 'stall@example.com';
let root: string;
let hub: NpmStartHub;
let browser: Browser;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'wsh-web-stall-'));
  const [launched, started] = await Promise.all([
    startNpmStart({ dataDir: join(root, 'data'), port: await freePort() }),
    launchChromium(),
  ]);
  hub = launched;
  browser = started;
}, 60_000);

afterAll(() => stopBrowserAndHub(browser, hub, root));

it('lets a stalled tab go so ssh beside it keeps going, then the tab says why and attaches again', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(hub.url);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Create workspace' }).click();
  const row = page.locator('tr[data-workspace-id]').first();
  await row.waitFor();
  const id = (await row.getAttribute('data-workspace-id'))!;
  await page
    .locator(`tr[data-workspace-id="${id}"][data-status="READY"]`)
    .waitFor({ timeout: 30_000 });
  await row.getByRole('link', { name: 'Terminal' }).click();
  await page.locator('.terminal-state').waitFor({ state: 'hidden', timeout: 15_000 });
  await page.locator('.terminal-screen').click();
  await page.keyboard.type('echo web-$((6*7))\n');
  await expect
    .poll(() => page.locator('.xterm-rows').textContent(), { timeout: 15_000 })
    .toContain('web-42');
  const attachments = async () =>
    Number(await page.locator('.terminal-page').getAttribute('data-attachments'));
  const before = await attachments();

  const home = join(root, 'home');
  mkdirSync(home, { recursive: true });
  const env = {
    HOME: home,
    WSH_CONFIG_DIR: join(root, 'config'),
    WSH_HUB: hub.url,
    WSH_DEV_EMAIL: EMAIL,
  };
  const device = { configDir: env.WSH_CONFIG_DIR, home, hub: hub.url, env };
  expect((await runWsh(['login', '--dev', EMAIL], device)).code).toBe(0);
  const ssh = wshTerminal([id], env, 'ssh');
  try {
    await ssh.waitFor('web-42');

    // The page's script stops at the next thing it runs (the flood's first frame) and takes
    // nothing more until resumed, as a tab whose machine sleeps.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause');
    // Tens of MB: more than the browser's, the hub's and both SSH hops' buffers hold.
    ssh.type('yes 0123456789abcdef | head -c 30000000; echo after-$((6*7))\r');
    await ssh.waitFor('after-42');

    await cdp.send('Debugger.resume');
    await expect
      .poll(() => page.locator('.terminal-state').textContent(), { timeout: 15_000 })
      .toContain('detached: took no output for 5 s while others were attached');
    await expect.poll(attachments, { timeout: 15_000 }).toBeGreaterThan(before);
    await expect
      .poll(() => page.locator('.xterm-rows').textContent(), { timeout: 15_000 })
      .toContain('after-42');
    // Back and typing, as the ssh client sees.
    await page.locator('.terminal-screen').click();
    await page.keyboard.type('echo back-$((2+3))\n');
    await ssh.waitFor('back-5');
  } finally {
    await ssh.close();
    await context.close();
  }
}, 120_000);
