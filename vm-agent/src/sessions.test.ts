import { describe, expect, it } from 'vitest';
import { Activity } from './activity.js';
import { Session, type SessionClient, type Terminal } from './sessions.js';

/** A pty that records what the session does to it and emits what the test says. */
class FakeTerminal implements Terminal {
  readonly pid = 4242;
  readonly written: Buffer[] = [];
  readonly sizes: [number, number][] = [];
  readonly signals: (string | undefined)[] = [];
  paused = false;
  private dataListener: (data: Buffer) => void = () => {};
  private exitListener: (e: { exitCode: number; signal?: number }) => void = () => {};

  onData(listener: (data: Buffer) => void): void {
    this.dataListener = listener;
  }
  onExit(listener: (e: { exitCode: number; signal?: number }) => void): void {
    this.exitListener = listener;
  }
  write(data: Buffer): void {
    this.written.push(data);
  }
  resize(cols: number, rows: number): void {
    this.sizes.push([cols, rows]);
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  kill(signal?: string): void {
    this.signals.push(signal);
  }

  /** The shell printed `text`. */
  print(text: string): void {
    this.dataListener(Buffer.from(text));
  }
  exit(exitCode: number, signal?: number): void {
    this.exitListener({ exitCode, signal });
  }
}

/** An SSH channel stand-in: collects output; `full` makes writes report back-pressure. */
class FakeClient implements SessionClient {
  output = '';
  full = false;
  exit: { code: number | null; signal: string | null } | null = null;
  private drainListeners: (() => void)[] = [];

  constructor(readonly deviceId: string) {}

  write(data: Buffer): boolean {
    this.output += data.toString();
    return !this.full;
  }
  onDrain(resume: () => void): void {
    this.drainListeners.push(resume);
  }
  exited(code: number | null, signal: string | null): void {
    this.exit = { code, signal };
  }
  drain(): void {
    this.full = false;
    for (const l of this.drainListeners.splice(0)) l();
  }
}

function newSession(scrollbackBytes = 1024) {
  const pty = new FakeTerminal();
  const activity = new Activity();
  let ended = 0;
  const session = new Session(
    'main',
    pty,
    scrollbackBytes,
    { cols: 80, rows: 24 },
    activity,
    () => {
      ended++;
    },
  );
  return { pty, activity, session, ended: () => ended };
}

describe('Session', () => {
  it('replays what was printed before an attach, then streams live output', () => {
    const { pty, session } = newSession();
    pty.print('$ make\r\nbuilding…\r\n');
    const laptop = new FakeClient('laptop');
    session.attach(laptop, null);
    expect(laptop.output).toBe('$ make\r\nbuilding…\r\n');
    pty.print('done\r\n');
    expect(laptop.output).toBe('$ make\r\nbuilding…\r\ndone\r\n');
  });

  it('replays only the newest scrollback bytes', () => {
    const { pty, session } = newSession(1024);
    for (let i = 0; i < 100; i++)
      pty.print(`line ${String(i).padStart(3, '0')}${'.'.repeat(40)}\n`);
    const phone = new FakeClient('phone');
    session.attach(phone, null);
    expect(Buffer.byteLength(phone.output)).toBe(1024);
    expect(phone.output.endsWith(`line 099${'.'.repeat(40)}\n`)).toBe(true);
    expect(phone.output).not.toContain('line 000');
  });

  it('sends every attached client the same output and takes the latest size', () => {
    const { pty, session } = newSession();
    const laptop = new FakeClient('laptop');
    const phone = new FakeClient('phone');
    session.attach(laptop, { cols: 200, rows: 50 });
    session.attach(phone, { cols: 40, rows: 20 });
    pty.print('hello\n');
    expect(laptop.output).toBe('hello\n');
    expect(phone.output).toBe('hello\n');
    expect(pty.sizes.at(-1)).toEqual([40, 20]);
    expect(session.info()).toMatchObject({ cols: 40, rows: 20 });
    expect(session.clientDevices).toEqual(['laptop', 'phone']);
    session.resize({ cols: 99_999, rows: 0 });
    expect(pty.sizes.at(-1)).toEqual([1000, 80]);
  });

  it('forwards keystrokes to the pty and counts them as activity', () => {
    const { pty, session, activity } = newSession();
    activity.dirty = false;
    session.input('ls\r');
    expect(Buffer.concat(pty.written).toString()).toBe('ls\r');
    expect(activity.dirty).toBe(true);
  });

  it('stops reading the pty while a client is full, until every full client drained', () => {
    const { pty, session } = newSession();
    const laptop = new FakeClient('laptop');
    const phone = new FakeClient('phone');
    session.attach(laptop, null);
    session.attach(phone, null);
    laptop.full = true;
    phone.full = true;
    pty.print('a lot of output');
    expect(pty.paused).toBe(true);
    laptop.drain();
    expect(pty.paused).toBe(true);
    phone.drain();
    expect(pty.paused).toBe(false);
  });

  it('resumes the pty when the only full client detaches', () => {
    const { pty, session } = newSession();
    const fast = new FakeClient('fast');
    const slow = new FakeClient('slow');
    session.attach(fast, null);
    const detachSlow = session.attach(slow, null);
    slow.full = true;
    pty.print('x');
    expect(pty.paused).toBe(true);
    detachSlow();
    expect(pty.paused).toBe(false);
    pty.print('y');
    expect(fast.output).toBe('xy');
    expect(slow.output).toBe('x');
  });

  it("reports the shell's exit status to every client and ignores input afterwards", () => {
    const { pty, session, ended } = newSession();
    const laptop = new FakeClient('laptop');
    const phone = new FakeClient('phone');
    session.attach(laptop, null);
    session.attach(phone, null);
    pty.exit(3);
    expect(laptop.exit).toEqual({ code: 3, signal: null });
    expect(phone.exit).toEqual({ code: 3, signal: null });
    expect(session.exitStatus).toEqual({ code: 3, signal: null });
    expect(ended()).toBe(1);
    session.input('echo too late\r');
    expect(pty.written).toEqual([]);
    expect(session.clientDevices).toEqual([]);
  });

  it('reports a signal by its SSH name, and kill() hangs up and waits for the exit', async () => {
    const { pty, session } = newSession();
    const laptop = new FakeClient('laptop');
    session.attach(laptop, null);
    const killed = session.kill();
    expect(pty.signals).toEqual(['SIGHUP']);
    pty.exit(0, 1);
    await killed;
    expect(laptop.exit).toEqual({ code: null, signal: 'HUP' });
    await session.kill(); // already over: returns at once
    expect(pty.signals).toEqual(['SIGHUP']);
  });
});
