import { STALLED_ATTACHMENT_SIGNAL } from '@workspace-hub/api';
import type { ServerChannel, Session as SshSession } from 'ssh2';
import type { AgentConfig } from './config.js';
import { acceptsClientEnv, sessionEnv } from './environment.js';
import { runCommand } from './exec.js';
import { audit } from './log.js';
import { formatSessions, parseCommand } from './session-commands.js';
import {
  SESSION_NAME,
  type Session,
  type SessionClient,
  type SessionManager,
  type TerminalSize,
} from './sessions.js';
import { serveSftp } from './sftp.js';
import type { RootedPaths } from './sftp-paths.js';

export interface SessionChannelDeps {
  config: AgentConfig;
  sessions: SessionManager;
  rootedPaths: RootedPaths;
  /** Records activity (for the hub's heartbeat). */
  touch: () => void;
  /** The connection's user and its key's device id, known once authenticated. */
  who: () => { user: string; deviceId: string };
}

/** What the client asked for on this channel before its shell, exec or subsystem. */
interface ChannelState {
  env: Record<string, string>;
  pty: (TerminalSize & { term: string }) | null;
  onResize: ((size: TerminalSize) => void) | null;
}

/**
 * One SSH `session` channel: env and pty requests, then a shell (session
 * `main`), an exec (agent commands or the user's shell, like sshd) or SFTP.
 */
export function serveSessionChannel(channel: SshSession, deps: SessionChannelDeps): void {
  const { config, sessions, touch, who } = deps;
  const state: ChannelState = { env: {}, pty: null, onResize: null };
  const device = () => state.env.WSH_DEVICE_ID || who().deviceId;
  channel.on('env', (accept, reject, e) => {
    if (acceptsClientEnv(e.key)) {
      state.env[e.key] = e.val;
      accept?.();
    } else reject?.();
  });
  channel.on('pty', (accept, _reject, p) => {
    state.pty = { cols: p.cols || 80, rows: p.rows || 24, term: p.term || 'xterm-256color' };
    accept?.();
  });
  channel.on('window-change', (accept, _reject, w) => {
    const size = { cols: w.cols, rows: w.rows };
    if (state.pty) Object.assign(state.pty, size);
    state.onResize?.(size);
    accept?.();
  });
  channel.on('signal', (accept) => accept?.());
  channel.on('shell', (accept) => attach(accept(), 'main', state, device(), sessions));
  channel.on('exec', (accept, _reject, e) => {
    const stream = accept();
    const command = parseCommand(e.command);
    const base = { user: who().user, device_id: device() };
    switch (command.kind) {
      case 'attach':
        return attach(stream, command.name, state, device(), sessions);
      case 'sessions': {
        audit('exec', { ...base, command: 'sessions' });
        const list = sessions.list().map((s) => s.info());
        stream.write(
          command.json ? `${JSON.stringify({ sessions: list })}\n` : formatSessions(list),
        );
        stream.exit(0);
        return stream.end();
      }
      case 'kill': {
        const session = sessions.get(command.name);
        audit('session', {
          ...base,
          action: 'kill',
          session: command.name,
          found: Boolean(session),
        });
        if (!session) {
          stream.stderr.write(`no session named ${command.name}\n`);
          stream.exit(1);
          return stream.end();
        }
        void session.kill().then(() => {
          stream.exit(0);
          stream.end();
        });
        return;
      }
      case 'exec': {
        const name = command.command.trim().split(/\s+/)[0] ?? '';
        audit('exec', {
          ...base,
          command: config.auditCommands ? command.command : name,
          pty: Boolean(state.pty),
        });
        const running = runCommand(stream, command.command, {
          shell: config.shell,
          cwd: config.home,
          env: sessionEnv({
            home: config.home,
            shell: config.shell,
            secretsDir: config.secretsDir,
            clientEnv: state.env,
            term: state.pty?.term ?? null,
          }),
          pty: state.pty,
          onActivity: touch,
        });
        state.onResize = (size) => running.resize(size);
        return;
      }
    }
  });
  channel.on('sftp', (accept) => {
    audit('sftp', { user: who().user, device_id: device() });
    serveSftp(accept(), deps.rootedPaths, touch);
  });
}

/** Attaches the channel to session `name` (created on first use) until either ends. */
function attach(
  stream: ServerChannel,
  name: string,
  state: ChannelState,
  deviceId: string,
  sessions: SessionManager,
): void {
  if (!SESSION_NAME.test(name)) {
    stream.stderr.write(`invalid session name: ${name} (letters, digits, . _ -)\n`);
    stream.exit(2);
    stream.end();
    return;
  }
  let session: Session;
  let created: boolean;
  try {
    ({ session, created } = sessions.getOrCreate(name, state.pty, state.pty?.term ?? null));
  } catch (err) {
    stream.stderr.write(`cannot start session ${name}: ${(err as Error).message}\n`);
    stream.exit(1);
    stream.end();
    return;
  }
  audit('session', {
    action: created ? 'create' : 'attach',
    session: name,
    device_id: deviceId,
    pid: session.pid,
  });
  let stalled = false;
  const client: SessionClient = {
    deviceId,
    write: (data) => stream.write(data),
    onDrain: (resume) => {
      // Whichever comes first; the other listener goes too, or each stall would leave one.
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resume();
      };
      stream.once('drain', done);
      stream.once('close', done);
    },
    exited: (code, signal) => {
      if (signal) stream.exit(signal, false, '');
      else stream.exit(code ?? 0);
      stream.end();
    },
    stalled: (graceMs) => {
      stalled = true;
      const why = `took no output for ${graceMs / 1000} s while others were attached`;
      audit('session', { action: 'detach', session: name, device_id: deviceId, reason: 'stalled' });
      // The line waits behind what the client has not read yet: OpenSSH shows it once it reads
      // again (it ignores exit-signal); the hub acts on the exit-signal, which nothing holds back.
      stream.write(`\r\n[detached from session ${name}: ${why}; attach again to resume]\r\n`);
      stream.exit(STALLED_ATTACHMENT_SIGNAL, false, `detached: ${why}`);
      stream.end();
    },
  };
  const detach = session.attach(client, state.pty);
  state.onResize = (size) => stalled || session.resize(size);
  stream.on('data', (d: Buffer) => stalled || session.input(d));
  stream.on('close', () => {
    detach();
    if (!session.exitStatus && !stalled)
      audit('session', { action: 'detach', session: name, device_id: deviceId });
  });
}
