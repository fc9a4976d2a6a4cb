import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type NpmStartHub, startNpmStart } from '@workspace-hub/testing';
import type { Browser, Dialog, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentProcessesUnder, runWsh } from '../../client/test/local-hub.js';
import { launchChromium, stopBrowserAndHub } from './browser-and-hub.js';
import { wshTerminal } from './wsh-terminal.js';

/**
 * The web page as a user meets it: Debian's Chromium (headless, through playwright-core)
 * against `npm start`'s hub, one browser and one hub for the whole file.
 */
const EMAIL = 'web@example.com';
let root: string;
let hub: NpmStartHub;
let browser: Browser;
const device = { configDir: '', home: '' };
/** What the page reported about its Content Security Policy: nothing, we expect. */
const cspViolations: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'wsh-web-'));
  device.configDir = join(root, 'config');
  device.home = join(root, 'home');
  mkdirSync(device.home, { recursive: true });
  const [launched, started] = await Promise.all([
    startNpmStart({
      dataDir: join(root, 'data'),
      port: await freePort(),
      // Sockets end after 6 s, as Cloud Run ends requests at its timeout: the page must
      // reconnect under every terminal step without the user noticing.
      env: { HUB_ADMINS: 'admin@example.com', HUB_TERMINAL_MAX_SECONDS: '6' },
    }),
    launchChromium(),
  ]);
  hub = launched;
  browser = started;
}, 60_000);

afterAll(() => stopBrowserAndHub(browser, hub, root));

async function signedIn(email: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.url });
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

/** What the terminal shows (xterm's DOM renderer draws its rows as text into .xterm-rows). */
const screenText = (page: Page) => page.locator('.xterm-rows').textContent();

async function seeOnScreen(page: Page, text: string) {
  await expect.poll(() => screenText(page), { timeout: 15_000 }).toContain(text);
}

/** The terminal page of a workspace the user cannot reach: the notice and the way back only. */
async function expectOnlyNotFound(page: Page) {
  await page.getByRole('link', { name: 'Back to your workspaces' }).waitFor();
  expect(await page.getByRole('complementary', { name: 'Files' }).count()).toBe(0);
  expect(await page.getByRole('button', { name: '+ New session' }).count()).toBe(0);
  expect(await page.locator('.xterm-rows, [data-session]').count()).toBe(0);
}

describe('the web page against npm start', () => {
  it('signs in, creates a workspace only its owner sees, types in its terminal what ssh sees too, finds it after a reload and a dropped socket, copies and pastes, and resumes it from the page once stopped', async () => {
    const page = await signedIn(EMAIL);
    await page.getByText('No workspaces yet.').waitFor();

    // Create: the row appears at once, shows its provisioning in progress, and turns Running
    // without a reload. A local workspace provisions in a moment, so what each row showed is
    // recorded as the page draws it rather than looked for afterwards.
    await page.evaluate(() => {
      const shown: string[] = [];
      (window as unknown as { rowsShown: string[] }).rowsShown = shown;
      new MutationObserver(() => {
        document.querySelectorAll('tr[data-workspace-id]').forEach((tr) => {
          const status = tr.querySelector('.status')?.textContent;
          const bar = tr.querySelector('progress')?.getAttribute('aria-label') ?? 'no progress';
          shown.push(`${tr.getAttribute('data-status')}: ${status}, ${bar}`);
        });
      }).observe(document.body, { childList: true, subtree: true });
    });
    await page.getByLabel('Repository').fill('https://github.com/acme/web');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    const row = page.locator('tr[data-workspace-id]');
    await row.first().waitFor();
    const id = (await row.first().getAttribute('data-workspace-id'))!;
    await page
      .locator(`tr[data-workspace-id="${id}"][data-status="READY"]`)
      .waitFor({ timeout: 30_000 });
    const rowsShown = await page.evaluate(
      () => (window as unknown as { rowsShown: string[] }).rowsShown,
    );
    expect(rowsShown).toContain('PROVISIONING: Provisioning…, Provisioning…');
    expect(rowsShown.at(-1)).toBe('READY: Running, no progress');
    expect(await row.first().textContent()).toContain('https://github.com/acme/web');
    expect(await row.first().locator('.countdown').textContent()).toMatch(/^3h 5\dm$/);

    // Another user sees none of it, in the list or by its address.
    const other = await signedIn('other@example.com');
    await other.getByText('No workspaces yet.').waitFor();
    expect(await other.locator('tr[data-workspace-id]').count()).toBe(0);
    await other.goto(`${hub.url}/#/workspaces/${id}`);
    await expect
      .poll(() => other.locator('.terminal-state').textContent(), { timeout: 15_000 })
      .toContain('not found');
    await expectOnlyNotFound(other);
    await other.context().close();
    // An admin sees it among everyone's, marked as another user's.
    const admin = await signedIn('admin@example.com');
    await admin.getByText('No workspaces yet.').waitFor();
    await admin.getByLabel('Everyone’s workspaces').check();
    const theirs = admin.locator(`tr.others[data-workspace-id="${id}"]`);
    await theirs.waitFor();
    expect(await theirs.locator('.owner-badge').textContent()).toBe(EMAIL);
    await admin.context().close();

    // The terminal: session main, a command and its output.
    await row.first().getByRole('link', { name: 'Terminal' }).click();
    await page.locator('.xterm-rows').waitFor();
    await page.locator('.terminal-state').waitFor({ state: 'hidden', timeout: 15_000 });
    await page.locator('.terminal-screen').click();
    await page.keyboard.type('echo web-$((6*7))\n');
    await seeOnScreen(page, 'web-42');

    // A second session, then back to main: each keeps its own screen. A name the agent
    // cannot take is asked for again, saying why.
    const answers = ['my build', 'build'];
    const asked: string[] = [];
    const answer = (d: Dialog) => {
      asked.push(d.message());
      void d.accept(answers.shift());
      if (!answers.length) page.off('dialog', answer);
    };
    page.on('dialog', answer);
    await page.getByRole('button', { name: '+ New session' }).click();
    await page.locator('[data-session="build"][aria-current="true"]').waitFor();
    expect(asked[1]).toContain('"my build" is not a session name');
    await page.locator('.terminal-screen').click();
    await page.keyboard.type('echo in-build\n');
    await seeOnScreen(page, 'in-build');
    await page.locator('[data-session="main"]').click();
    await seeOnScreen(page, 'web-42');
    expect(await screenText(page)).not.toContain('in-build');

    // A reload comes back to the same session, its scrollback replayed.
    await page.reload();
    await seeOnScreen(page, 'web-42');

    // The hub ends the socket: the page attaches again by itself, the replay does not double
    // what the screen showed, and typing goes on.
    const attachments = async () =>
      Number(await page.locator('.terminal-page').getAttribute('data-attachments'));
    const before = await attachments();
    await expect.poll(attachments, { timeout: 15_000 }).toBeGreaterThan(before);
    await page.keyboard.type('echo after-$((1+1))\n');
    await seeOnScreen(page, 'after-2');
    // The replay is written before what was typed after the re-attach, so by now all of it is
    // on the screen (read right after the attach, it may not be rendered yet): once, not twice.
    expect((await screenText(page))?.split('web-42')).toHaveLength(2);

    // Copy and paste: a double-clicked word is copied, Ctrl+Shift+V pastes it into the session.
    const line = page.locator('.xterm-rows > div').filter({ hasText: /^after-2\s*$/ });
    const box = (await line.first().boundingBox())!;
    await page.mouse.dblclick(box.x + 10, box.y + box.height / 2);
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('after-2');
    await page.keyboard.press('Control+Shift+V');
    await page.keyboard.press('Enter');
    await seeOnScreen(page, 'after-2: command not found');

    // The same session from a real ssh client (`wsh ssh`, OpenSSH): both see what either types.
    const env = {
      HOME: device.home,
      WSH_CONFIG_DIR: device.configDir,
      WSH_HUB: hub.url,
      WSH_DEV_EMAIL: EMAIL,
    };
    const login = await runWsh(['login', '--dev', EMAIL], { ...device, hub: hub.url, env });
    expect(login.code, login.stderr).toBe(0);
    const ssh = wshTerminal([id], env, 'ssh');
    await ssh.waitFor('web-42');
    ssh.type('echo ssh-$((2+3))\r');
    await seeOnScreen(page, 'ssh-5');
    // The session's tab names the devices attached: the browser and the ssh client's device.
    const devices = page.locator('[data-session="main"] .devices');
    await expect
      .poll(() => devices.textContent(), { timeout: 10_000 })
      .toMatch(/browser, \S+|\S+, browser/);
    await ssh.close();

    await page.getByRole('link', { name: '← Workspaces' }).click();

    // Stop from the dashboard: the terminal page then says so and offers to resume.
    await page
      .locator(`tr[data-workspace-id="${id}"]`)
      .getByRole('button', { name: 'Stop' })
      .click();
    await page
      .locator(`tr[data-workspace-id="${id}"][data-status="SUSPENDED"]`)
      .waitFor({ timeout: 30_000 });
    await page.goto(`${hub.url}/#/workspaces/${id}`);
    await expect
      .poll(() => page.locator('.terminal-state').textContent(), { timeout: 15_000 })
      .toContain('stopped');
    // Resumed, the terminal is back with what it showed.
    await page.getByRole('button', { name: 'Resume' }).click();
    await seeOnScreen(page, 'ssh-5');

    expect(cspViolations).toEqual([]);
  }, 90_000);

  it('creates a workspace with the name typed in the form, and shows a refusal below the form, across it', async () => {
    const page = await signedIn('named@example.com');
    const form = page.getByRole('form', { name: 'New workspace' });
    await form.getByLabel('Name').fill('my-api');
    await form.getByRole('button', { name: 'Create workspace' }).click();
    const rows = page.locator('tr[data-workspace-id]');
    await rows.first().waitFor();
    expect(await rows.first().textContent()).toContain('my-api');
    // The same name again is the hub's 409, told under the fields rather than beside one.
    await form.getByLabel('Name').fill('my-api');
    await form.getByRole('button', { name: 'Create workspace' }).click();
    const refusal = form.getByRole('alert');
    await expect.poll(() => refusal.textContent()).toContain('my-api is already the name');
    const [formBox, refusalBox] = [await form.boundingBox(), await refusal.boundingBox()];
    expect(refusalBox!.width).toBeGreaterThan(formBox!.width * 0.9);
    expect(await rows.count()).toBe(1);
  });

  it('shows a workspace being provisioned with its progress, then uploads a file from the files panel and downloads it back with the same checksum, and once the workspace is deleted leaves only the notice', async () => {
    const page = await signedIn('files@example.com');
    const auth = { authorization: 'Bearer dev:files@example.com' };
    const created = await fetch(`${hub.url}/workspaces`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{}',
    });
    const id = ((await created.json()) as { id: string }).id;
    // Held in PROVISIONING: its agent is frozen before it can report ready (Node alone takes
    // longer to start than this), and the terminal page shows the provisioning in progress.
    const agents = agentProcessesUnder(join(root, 'data', 'workspaces', id));
    expect(agents).not.toEqual([]);
    for (const pid of agents) process.kill(pid, 'SIGSTOP');
    await page.goto(`${hub.url}/#/workspaces/${id}`);
    const state = page.locator('.terminal-state');
    await expect.poll(() => state.textContent()).toMatch(/^Provisioning… \(\d+ s\)$/);
    await state.locator('progress').waitFor({ timeout: 10_000 });
    const panel = page.getByRole('complementary', { name: 'Files' });
    const notReady = panel.getByText(/its files can be reached once it is READY/);
    await notReady.waitFor({ timeout: 10_000 });
    for (const pid of agents) process.kill(pid, 'SIGCONT');
    await state.waitFor({ state: 'hidden', timeout: 30_000 });
    await expect
      .poll(
        async () =>
          (
            (await (await fetch(`${hub.url}/workspaces/${id}`, { headers: auth })).json()) as {
              status: string;
            }
          ).status,
        { timeout: 30_000 },
      )
      .toBe('READY');
    // The panel lists the home by itself once the workspace is ready, and its notice goes.
    await notReady.waitFor({ state: 'hidden', timeout: 10_000 });

    // 20 MiB: the panel sends it as three chunks (Cloud Run's request limit), each with progress.
    const data = randomBytes(20 * 1024 * 1024);
    const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const local = join(root, 'upload.bin');
    writeFileSync(local, data);
    await panel.getByLabel('Files to upload').setInputFiles([local]);
    await panel.getByText('uploaded').waitFor({ timeout: 60_000 });
    const inHome = join(root, 'data', 'workspaces', id, 'home', 'upload.bin');
    expect(sha256(readFileSync(inHome))).toBe(sha256(data));

    const download = page.waitForEvent('download');
    await panel.getByRole('button', { name: 'upload.bin' }).click();
    const saved = join(root, 'downloaded.bin');
    await (await download).saveAs(saved);
    expect(sha256(readFileSync(saved))).toBe(sha256(data));

    // Delete asks first; then the row and the file are gone.
    page.once('dialog', (d) => d.accept());
    await panel
      .locator('tr[data-name="upload.bin"]')
      .getByRole('button', { name: 'delete' })
      .click();
    await expect.poll(() => panel.locator('tr[data-name="upload.bin"]').count()).toBe(0);
    expect(existsSync(inHome)).toBe(false);

    // The agent's own folder (its SSH host key) is listed, as SFTP shows it, but offers no
    // rename or delete, and says why.
    const agentFolder = panel.locator('tr[data-name=".vm-agent"]');
    await expect.poll(() => agentFolder.textContent()).toContain('SSH host key');
    expect(await agentFolder.getByRole('button', { name: /^(rename|delete)$/ }).count()).toBe(0);

    // Deleted while its page is open: the page keeps only the notice and the way back, not the
    // terminal or the file listing of a home that no longer exists.
    await panel.waitFor();
    const deleted = await fetch(`${hub.url}/workspaces/${id}`, { method: 'DELETE', headers: auth });
    expect(deleted.ok).toBe(true);
    await expect.poll(() => state.textContent(), { timeout: 60_000 }).toContain('not found');
    await expectOnlyNotFound(page);
    expect(cspViolations).toEqual([]);
  }, 120_000);
});
