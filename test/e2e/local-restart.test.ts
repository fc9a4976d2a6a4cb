import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startNpmStart } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentProcessesUnder, wshAs } from '../../client/test/local-hub.js';

/**
 * `npm start` keeps its state: the launcher (local/dist/main.js, what `npm start`
 * runs) is stopped with Ctrl-C, then killed with SIGKILL, and each time started
 * again on the same HUB_DATA_DIR; the workspace comes back with its home (after
 * Ctrl-C stopped, to be started; after kill -9 with the agent that survived).
 */
let root: string;
let dataDir: string;
let port: number;
let launcher: { child: ChildProcess; output: () => string; emulatorHost: string } | null = null;
const user = { configDir: '', home: '' };

async function waitFor(what: string, check: () => boolean | Promise<boolean>, seconds = 30) {
  const until = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startLauncher() {
  const hub = await startNpmStart({ dataDir, port });
  await waitFor('the launcher to print its banner', () => hub.output().includes('Quick start'), 15);
  const emulatorHost = /Firestore emulator: (\S+)/.exec(hub.output())![1]!;
  launcher = { child: hub.child, output: hub.output, emulatorHost };
  return launcher;
}

async function ended(child: ChildProcess) {
  if (child.exitCode === null && child.signalCode === null)
    await new Promise((r) => child.once('exit', r));
}

const answers = (host: string) =>
  fetch(`http://${host}/`).then(
    () => true,
    () => false,
  );

const wshOk = (args: string[]) => wshAs(user, () => `http://127.0.0.1:${port}`).ok(args);

async function listed(id: string) {
  const { workspaces } = JSON.parse(await wshOk(['ls', '--json']));
  return workspaces.find((w: { id: string }) => w.id === id);
}

/** When the hub last answered a request, from its request log. */
function lastAnswer(output: string): number {
  const times = [...output.matchAll(/"time":"([^"]+)"/g)];
  return Date.parse(times.at(-1)?.[1] ?? '1970-01-01T00:00:00Z');
}

/** The emulator's data was saved after `since` (the launcher exports while the hub is busy). */
function savedAfter(since: number): boolean {
  try {
    return Number(readlinkSync(join(dataDir, 'firestore', 'current')).split('-')[1]) > since;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'wsh-restart-'));
  dataDir = join(root, 'data');
  user.configDir = join(root, 'config');
  user.home = join(root, 'home');
  mkdirSync(user.home, { recursive: true });
  port = await freePort();
});

afterAll(async () => {
  if (launcher && launcher.child.exitCode === null) {
    launcher.child.kill('SIGINT');
    await ended(launcher.child);
  }
  for (const pid of agentProcessesUnder(dataDir)) process.kill(pid, 'SIGKILL');
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('npm start keeps its workspaces', () => {
  it('brings a workspace back with its home after Ctrl-C and after kill -9', async () => {
    // First run: a workspace with a file in its home.
    let run = await startLauncher();
    await wshOk(['login', '--dev', 'dev@example.com']);
    const id: string = JSON.parse(await wshOk(['create', '--name', 'keeper', '--json'])).id;
    await wshOk(['ssh', id, '--', 'sh', '-c', "'echo first-run > note.txt'"]);

    // Ctrl-C: everything it started ends.
    run.child.kill('SIGINT');
    await ended(run.child);
    expect(run.child.exitCode).toBe(0);
    expect(agentProcessesUnder(dataDir)).toEqual([]);
    expect(await answers(run.emulatorHost)).toBe(false);

    // Second run: listed by its name, stopped with the reason, started by name on the same home.
    run = await startLauncher();
    const back = await listed(id);
    expect(back.name).toBe('keeper');
    expect(back.status).toBe('SUSPENDED');
    // Plainly what happened: not a crash, nor a change made outside the hub.
    expect(back.status_reason).toMatch(/^stopped when the local hub stopped\b/);
    expect(back.status_reason).not.toContain('outside the hub');
    expect(JSON.parse(await wshOk(['start', 'keeper', '--json'])).status).toBe('READY');
    expect(await wshOk(['ssh', 'keeper', '--', 'cat', 'note.txt'])).toContain('first-run');
    await wshOk(['ssh', id, '--', 'sh', '-c', "'echo second-run > note2.txt'"]);
    // The agent runs on this machine: its `ssh -L` may not reach the emulator the launcher started.
    const [agent] = agentProcessesUnder(dataDir);
    const denied = readFileSync(`/proc/${agent}/environ`, 'utf8')
      .split('\0')
      .find((v) => v.startsWith('AGENT_FORWARD_DENY_PORTS='));
    expect(denied?.split('=')[1]?.split(',')).toContain(run.emulatorHost.split(':').pop());

    // kill -9 once the data was saved: its emulator ends with it, its agent runs on.
    await waitFor('the emulator data to be saved', () => savedAfter(lastAnswer(run.output())), 20);
    run.child.kill('SIGKILL');
    await ended(run.child);
    await waitFor('the emulator to end', async () => !(await answers(run.emulatorHost)));

    const [survivor] = agentProcessesUnder(dataDir);
    expect(survivor).toBeGreaterThan(0);

    // Third run: the agent left behind is found again, READY as it was, on the same home.
    run = await startLauncher();
    expect((await listed(id)).status).toBe('READY');
    expect(agentProcessesUnder(dataDir)).toContain(survivor);
    expect(JSON.parse(await wshOk(['start', 'keeper', '--json'])).status).toBe('READY');
    expect(await wshOk(['ssh', 'keeper', '--', 'cat', 'note.txt', 'note2.txt'])).toMatch(
      /first-run\s+second-run/,
    );
    // The history survived both restarts, each step with who or what made it, newest first.
    const history = JSON.parse(await wshOk(['events', 'keeper', '--json'])).events as Array<{
      action: string;
      outcome: string;
      actor: { kind: string; via?: string };
    }>;
    expect(
      history.map((e) => [e.action, e.outcome, e.actor.kind, e.actor.via ?? null].join(' ')),
    ).toEqual([
      'start succeeded agent ',
      'start accepted owner ',
      'reconcile succeeded reconcile hub-start',
      'create succeeded agent ',
      'create accepted owner ',
    ]);

    run.child.kill('SIGINT');
    await ended(run.child);
    expect(agentProcessesUnder(dataDir)).toEqual([]);
    expect(await answers(run.emulatorHost)).toBe(false);
  }, 120_000);
});
