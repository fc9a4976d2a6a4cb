import type { Workspace } from '@workspace-hub/api';
import { CHANGING, displayName, STATUS_LABEL } from '../dashboard/status.js';
import { h, show } from '../dom.js';
import { mountFilesPanel } from '../files/index.js';
import { HubProblem, hub } from '../hub-api.js';
import { messageOf } from '../notice.js';
import { startPolling } from '../poller.js';
import { TerminalConnection } from './connection.js';
import type { TerminalSessionInfo } from './protocol.js';
import { sessionsBar } from './sessions-bar.js';
import { xtermView } from './xterm-view.js';

/**
 * A workspace's terminal: attaches to `session` (`main` by default) once the workspace is READY;
 * until then says what the workspace is doing (provisioning, starting) or offers to resume it.
 * The session's name is in the URL, so a reload comes back to it and the hub replays it.
 */
export function terminalPage(root: HTMLElement, workspaceId: string, session: string): () => void {
  const title = h('h1', {}, workspaceId);
  const state = h('div', { class: 'terminal-state', role: 'status' });
  const screen = h('div', { class: 'terminal-screen' });
  const filesPanel = h('aside', { class: 'files-panel', 'aria-label': 'Files' });
  let sessions: TerminalSessionInfo[] = [];
  let current = session;
  const bar = sessionsBar({ attach: (name) => switchTo(name) });

  // How many times a socket attached (tests and debugging: a reconnect adds one).
  let attachments = 0;
  const section = h(
    'section',
    { class: 'terminal-page' },
    h('div', { class: 'toolbar' }, h('a', { href: '#/', class: 'back' }, '← Workspaces'), title),
    bar.el,
    state,
    h('div', { class: 'terminal-layout' }, screen, filesPanel),
  );
  show(root, section);

  const setState = (text: string, kind: 'info' | 'error' | 'none', ...extra: Node[]) => {
    state.className = `terminal-state ${kind}`;
    state.hidden = kind === 'none';
    show(state, text, ...extra);
  };

  let lastWhy: string | undefined;
  let hideNotice: ReturnType<typeof setTimeout> | undefined;
  const connection = new TerminalConnection(workspaceId, session, {
    output: (bytes) => view.terminal.write(bytes),
    attached: (name) => {
      // The hub replays the session's scrollback next: start from a clean screen.
      view.terminal.reset();
      section.dataset.attachments = String(++attachments);
      current = name;
      bar.render(sessions, current);
      history.replaceState(null, '', `#/workspaces/${workspaceId}/${name}`);
      view.terminal.focus();
    },
    sessions: (list) => {
      sessions = list;
      bar.render(sessions, current);
    },
    exit: (name, code) => {
      view.terminal.write(
        `\r\n[session ${name} ended${code === null ? '' : ` with code ${code}`}]\r\n`,
      );
    },
    state: (s, why) => {
      clearTimeout(hideNotice);
      if (s === 'open') {
        // A reconnect that had a reason (the agent let a stalled tab go) keeps it in view a while.
        if (!lastWhy) return setState('', 'none');
        setState(`${lastWhy}; attached again`, 'info');
        lastWhy = undefined;
        hideNotice = setTimeout(() => setState('', 'none'), 8000);
      } else if (s === 'reconnecting') {
        lastWhy = why ?? lastWhy;
        setState(why ? `${why}; reconnecting…` : 'reconnecting…', 'info');
        // A dropped socket may mean the workspace was stopped: ask at once.
        watcher.now();
      } else if (s === 'connecting') setState('connecting…', 'info');
    },
    refused: (code, message) => {
      if (code === 'workspace_not_ready') watcher.now();
      else setState(message, 'error');
    },
  });
  // After the connection: fitting the view at once reports its size to it.
  const view = xtermView(screen, {
    input: (d) => connection.input(d),
    resize: (cols, rows) => connection.resize(cols, rows),
  });
  const switchTo = (name: string) => {
    current = name;
    connection.attach(name);
  };
  bar.render([], current);

  let connected = false;
  const resume = async (button: HTMLButtonElement) => {
    button.disabled = true;
    try {
      await hub.start(workspaceId);
      watcher.now();
    } catch (err) {
      setState(messageOf(err), 'error');
    }
  };
  const showStatus = (w: Workspace) => {
    title.textContent = displayName(w);
    if (w.status === 'SUSPENDED') {
      const button = h('button', { type: 'button', class: 'primary' }, 'Resume');
      button.addEventListener('click', () => void resume(button));
      setState('This workspace is stopped. ', 'info', button);
    } else if (CHANGING.has(w.status)) {
      const since = w.operation?.started_at ?? w.updated_at;
      const seconds = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
      setState(
        `${STATUS_LABEL[w.status]} (${seconds} s)`,
        'info',
        h('progress', { class: 'busy' }),
      );
    } else if (w.status === 'ERROR') {
      setState(w.error?.message ?? w.status_reason ?? 'This workspace failed.', 'error');
    }
  };
  // No such workspace (never was, another user's, or deleted while open): nothing here can
  // work any more, so the page keeps only the notice and the way back, not a terminal, session
  // tabs, uploads or a stale file listing that invite actions doomed to fail.
  const showGone = (message: string) => {
    stop();
    state.className = 'terminal-state error';
    state.hidden = false;
    show(state, message, ' ', h('a', { href: '#/' }, 'Back to your workspaces'));
    show(section, section.firstElementChild, state);
  };
  // Before and between connections: the workspace's status, fast while it changes.
  const watcher = startPolling(async () => {
    let w: Workspace;
    try {
      w = (await hub.status(workspaceId)).workspace;
    } catch (err) {
      if (err instanceof HubProblem && err.status === 404) {
        showGone(err.detail);
        return 'steady';
      }
      setState(messageOf(err), 'error');
      throw err;
    }
    if (w.status === 'READY') {
      title.textContent = displayName(w);
      if (!connected) {
        connected = true;
        connection.open();
      }
      return 'steady';
    }
    if (connected) {
      connected = false;
      connection.close();
    }
    showStatus(w);
    return CHANGING.has(w.status) ? 'changing' : 'steady';
  });

  const unmountFiles = mountFilesPanel(filesPanel, { workspaceId });
  const sessionsTimer = setInterval(() => connection.listSessions(), 5000);
  let stopped = false;
  function stop() {
    if (stopped) return;
    stopped = true;
    clearInterval(sessionsTimer);
    clearTimeout(hideNotice);
    watcher.stop();
    connection.close();
    view.dispose();
    unmountFiles();
  }
  return stop;
}
