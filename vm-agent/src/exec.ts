import { spawn } from 'node:child_process';
import nodePty from 'node-pty';
import type { ServerChannel } from 'ssh2';
import type { TerminalSize } from './sessions.js';
import { sshSignalName } from './signals.js';

export interface ExecOptions {
  shell: string;
  cwd: string;
  env: Record<string, string>;
  /** Set when the client asked for a pty (`ssh -t`). */
  pty: (TerminalSize & { term: string }) | null;
  onActivity: () => void;
}

export interface RunningCommand {
  resize(size: TerminalSize): void;
}

function sendExit(channel: ServerChannel, code: number | null, signal: string | null): void {
  if (signal) channel.exit(signal.replace(/^SIG/, ''), false, '');
  else channel.exit(code ?? 0);
  channel.end();
}

/** Runs `command` in the user's shell, like sshd's exec: exit status, stderr, hang-up on disconnect. */
export function runCommand(
  channel: ServerChannel,
  command: string,
  o: ExecOptions,
): RunningCommand {
  if (o.pty) return runInPty(channel, command, o, o.pty);
  // Its own process group, so a disconnect hangs up the whole pipeline.
  const child = spawn(o.shell, ['-c', command], {
    cwd: o.cwd,
    env: o.env,
    detached: true,
    stdio: 'pipe',
  });
  let done = false;
  child.stdout.pipe(channel, { end: false });
  child.stderr.pipe(channel.stderr, { end: false });
  channel.on('data', o.onActivity);
  channel.pipe(child.stdin);
  child.stdin.on('error', () => {});
  child.on('error', (err) => {
    if (done) return;
    done = true;
    channel.stderr.write(`${err.message}\n`);
    sendExit(channel, 127, null);
  });
  child.on('close', (code, signal) => {
    if (done) return;
    done = true;
    o.onActivity();
    sendExit(channel, code, signal);
  });
  channel.on('close', () => {
    if (done || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGHUP');
    } catch {
      // already gone
    }
  });
  return { resize: () => {} };
}

function runInPty(
  channel: ServerChannel,
  command: string,
  o: ExecOptions,
  size: TerminalSize & { term: string },
): RunningCommand {
  const term = nodePty.spawn(o.shell, ['-c', command], {
    name: size.term,
    cols: size.cols,
    rows: size.rows,
    cwd: o.cwd,
    env: o.env,
    encoding: null,
  } as nodePty.IPtyForkOptions);
  let exited = false;
  (term.onData as unknown as (cb: (d: Buffer) => void) => void)((data) => {
    o.onActivity();
    if (!channel.write(data)) {
      term.pause();
      channel.once('drain', () => term.resume());
    }
  });
  channel.on('data', (d: Buffer) => {
    o.onActivity();
    if (!exited) term.write(d);
  });
  term.onExit(({ exitCode, signal }) => {
    exited = true;
    sendExit(channel, signal ? null : exitCode, signal ? sshSignalName(signal) : null);
  });
  channel.on('close', () => {
    if (!exited) term.kill('SIGHUP');
  });
  return {
    resize: (s) => {
      if (!exited) term.resize(Math.max(1, s.cols), Math.max(1, s.rows));
    },
  };
}
