import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type NpmStartHub, startNpmStart } from '@workspace-hub/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentProcessesUnder } from '../../client/test/local-hub.js';

/**
 * The web page as a user meets it: Debian's Chromium (headless, through playwright-core)
 * against `npm start`'s hub, one browser and one hub for the whole file.
 */
const EMAIL = 'web@example.com';
let root: string;
let hub: NpmStartHub;
let browser: Browser;
/** What the page reported about its Content Security Policy: nothing, we expect. */
const cspViolations: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'wsh-web-'));
  const [launched, started] = await Promise.all([
    startNpmStart({ dataDir: join(root, 'data'), port: await freePort() }),
    chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      // Root in CI: Chromium's sandbox needs user namespaces it is not given there.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    }),
  ]);
  hub = launched;
  browser = started;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  for (const pid of agentProcessesUnder(join(root, 'data'))) process.kill(pid, 'SIGKILL');
  if (root) rmSync(root, { recursive: true, force: true });
});

async function signedIn(email: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) cspViolations.push(m.text());
  });
  await page.goto(hub.url);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workspaces' }).waitFor();
  return page;
}

describe('the web page against npm start', () => {
  it('signs in, creates a workspace that only its owner sees, stops it and resumes it from the page that offers to', async () => {
    const page = await signedIn(EMAIL);
    await page.getByText('No workspaces yet.').waitFor();

    // Create: the row appears at once and turns Running without a reload.
    await page.getByLabel('Repository').fill('https://github.com/acme/web');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    const row = page.locator('tr[data-workspace-id]');
    await row.first().waitFor();
    const id = (await row.first().getAttribute('data-workspace-id'))!;
    await page
      .locator(`tr[data-workspace-id="${id}"][data-status="READY"]`)
      .waitFor({ timeout: 30_000 });
    expect(await row.first().textContent()).toContain('https://github.com/acme/web');
    expect(await row.first().locator('.countdown').textContent()).toMatch(/^3h 5\dm$/);

    // Another user sees none of it, in the list or by its address.
    const other = await signedIn('other@example.com');
    await other.getByText('No workspaces yet.').waitFor();
    expect(await other.locator('tr[data-workspace-id]').count()).toBe(0);
    await other.goto(`${hub.url}/#/workspaces/${id}`);
    await expect.poll(() => other.locator('.terminal-state').textContent()).toContain('not found');
    await other.context().close();

    // Stop from the dashboard: the terminal page then says so and offers to resume.
    await page
      .locator(`tr[data-workspace-id="${id}"]`)
      .getByRole('button', { name: 'Stop' })
      .click();
    await page
      .locator(`tr[data-workspace-id="${id}"][data-status="SUSPENDED"]`)
      .waitFor({ timeout: 30_000 });
    await page.goto(`${hub.url}/#/workspaces/${id}`);
    await expect.poll(() => page.locator('.terminal-state').textContent()).toContain('stopped');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('link', { name: '← Workspaces' }).click();
    await page
      .locator(`tr[data-workspace-id="${id}"][data-status="READY"]`)
      .waitFor({ timeout: 30_000 });

    expect(cspViolations).toEqual([]);
  }, 90_000);
});
