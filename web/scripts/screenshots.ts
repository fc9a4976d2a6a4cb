/**
 * `npm run screenshots -w @workspace-hub/web`: the dashboard and the terminal as a user sees
 * them, taken with Debian's Chromium against `npm start` (a hub of its own on a free port,
 * its data in a temporary folder), into docs/screenshots/. Build first (`npm run build`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startNpmStart } from '@workspace-hub/testing';
import { chromium, type Page } from 'playwright-core';

const out = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'wsh-screenshots-'));
const hub = await startNpmStart({ dataDir: join(root, 'data'), port: await freePort() });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
});

const idsOnPage = (page: Page) =>
  page
    .locator('tr[data-workspace-id]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-workspace-id') ?? ''));

/** Creates a workspace through the form and waits until it runs; its id. */
async function create(page: Page, repo: string, branch: string): Promise<string> {
  const known = await idsOnPage(page);
  await page.getByLabel('Repository').fill(repo);
  await page.getByLabel('Branch').fill(branch);
  await page.getByRole('button', { name: 'Create workspace' }).click();
  let id: string | undefined;
  while (!id) {
    id = (await idsOnPage(page)).find((x) => x && !known.includes(x));
    await page.waitForTimeout(100);
  }
  await page
    .locator(`tr[data-workspace-id="${id}"][data-status="READY"]`)
    .waitFor({ timeout: 60_000 });
  return id;
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(hub.url);
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('No workspaces yet.').waitFor();
  const api = await create(page, 'https://github.com/acme/api', 'main');
  const web = await create(page, 'https://github.com/acme/web', 'feature/login');
  await page
    .locator(`tr[data-workspace-id="${api}"]`)
    .getByRole('button', { name: 'Stop' })
    .click();
  await page.locator(`tr[data-workspace-id="${api}"][data-status="SUSPENDED"]`).waitFor();
  await page.screenshot({ path: join(out, 'dashboard.png') });

  await page
    .locator(`tr[data-workspace-id="${web}"]`)
    .getByRole('link', { name: 'Terminal' })
    .click();
  await page.locator('.xterm-rows').waitFor();
  await page.locator('.terminal-state').waitFor({ state: 'hidden' });
  await page.locator('.terminal-screen').click();
  await page.keyboard.type("printf 'hello from the browser\\n' > notes.txt; ls -la; uname -sr\n");
  await page.waitForFunction(() =>
    document.querySelector('.xterm-rows')?.textContent?.includes('Linux'),
  );
  // The files panel beside it lists what the command wrote.
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.getByText('notes.txt').last().waitFor();
  await page.screenshot({ path: join(out, 'terminal.png') });
  process.stdout.write(`wrote ${join(out, 'dashboard.png')} and ${join(out, 'terminal.png')}\n`);
} finally {
  await browser.close();
  await hub.stop();
  rmSync(root, { recursive: true, force: true });
}
