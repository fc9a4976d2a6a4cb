import { describe, expect, it } from 'vitest';
import { Activity } from './activity.js';
import type { Schedule } from './output-flow.js';
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
  /** The grace the session reported when it let this client go for stalling. */
  stalledAfterMs: number | null = null;
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
  stalled(graceMs: number): void {
    this.stalledAfterMs = graceMs;
  }
  drain(): void {
    this.full = false;
    for (const l of this.drainListeners.splice(0)) l();
  }
}

/** Timers that fire only when the test moves the clock. */
class ManualClock {
  private now = 0;
  private readonly timers: { at: number; fn: () => void; live: boolean }[] = [];

  readonly schedule: Schedule = (fn, ms) => {
    const timer = { at: this.now + ms, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  };

  advance(ms: number): void {
    this.now += ms;
    for (const timer of this.timers)
      if (timer.live && timer.at <= this.now) {
        timer.live = false;
        timer.fn();
      }
  }
}

const GRACE_MS = 5000;

function newSession(scrollbackBytes = 1024) {
  const pty = new FakeTerminal();
  const activity = new Activity();
  const clock = new ManualClock();
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
    { graceMs: GRACE_MS, schedule: clock.schedule },
  );
  return { pty, activity, session, clock, ended: () => ended };
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

  it('lets a client go that took no output for the grace, and keeps the others going', () => {
    const { pty, session, clock } = newSession();
    const laptop = new FakeClient('laptop');
    const tab = new FakeClient('browser');
    session.attach(laptop, null);
    session.attach(tab, null);
    tab.full = true; // the tab's machine went to sleep
    pty.print('build log…');
    expect(pty.paused).toBe(true);
    clock.advance(GRACE_MS - 1);
    expect(pty.paused).toBe(true);
    expect(tab.stalledAfterMs).toBeNull();
    clock.advance(1);
    expect(tab.stalledAfterMs).toBe(GRACE_MS);
    expect(pty.paused).toBe(false);
    expect(session.clientDevices).toEqual(['laptop']);
    pty.print('$ echo still here');
    expect(laptop.output).toBe('build log…$ echo still here');
    expect(tab.output).toBe('build log…');
    tab.drain(); // waking up later changes nothing: it attaches again to catch up
    expect(session.clientDevices).toEqual(['laptop']);
  });

  it('waits for a lone slow client however long it takes, dropping nothing', () => {
    const { pty, session, clock } = newSession();
    const phone = new FakeClient('phone');
    session.attach(phone, null);
    phone.full = true;
    pty.print('a lot of output');
    clock.advance(60 * 60 * 1000);
    expect(phone.stalledAfterMs).toBeNull();
    expect(pty.paused).toBe(true);
    expect(session.clientDevices).toEqual(['phone']);
    phone.drain();
    expect(pty.paused).toBe(false);
    pty.print(' and more');
    expect(phone.output).toBe('a lot of output and more');
  });

  it('keeps a slow client that drains within the grace, each time it falls behind', () => {
    const { pty, session, clock } = newSession();
    const laptop = new FakeClient('laptop');
    const phone = new FakeClient('phone');
    session.attach(laptop, null);
    session.attach(phone, null);
    for (let round = 0; round < 3; round++) {
      phone.full = true;
      pty.print(`burst ${round};`);
      expect(pty.paused).toBe(true);
      clock.advance(GRACE_MS - 1);
      phone.drain();
      expect(pty.paused).toBe(false);
    }
    clock.advance(GRACE_MS * 3);
    expect(phone.stalledAfterMs).toBeNull();
    expect(session.clientDevices).toEqual(['laptop', 'phone']);
    expect(phone.output).toBe('burst 0;burst 1;burst 2;');
  });

  it('lets a lone client that stalled past the grace go as soon as another attaches', () => {
    const { pty, session, clock } = newSession();
    const suspended = new FakeClient('suspended-ssh');
    session.attach(suspended, null);
    suspended.full = true;
    pty.print('x');
    clock.advance(GRACE_MS * 2);
    expect(suspended.stalledAfterMs).toBeNull();
    const tab = new FakeClient('browser');
    session.attach(tab, null);
    expect(suspended.stalledAfterMs).toBe(GRACE_MS);
    expect(pty.paused).toBe(false);
    pty.print('y');
    expect(tab.output).toBe('xy');
    expect(session.clientDevices).toEqual(['browser']);
  });

  it('forgets a slow client that detaches within the grace', () => {
    const { pty, session, clock } = newSession();
    const laptop = new FakeClient('laptop');
    const phone = new FakeClient('phone');
    session.attach(laptop, null);
    const detachPhone = session.attach(phone, null);
    phone.full = true;
    pty.print('x');
    detachPhone();
    expect(pty.paused).toBe(false);
    clock.advance(GRACE_MS * 2);
    expect(phone.stalledAfterMs).toBeNull();
    expect(session.clientDevices).toEqual(['laptop']);
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
