import { h, show } from '../dom.js';
import type { TerminalSessionInfo } from './protocol.js';

/** The workspace's sessions as tabs, each with the devices attached to it, and "New session". */
export function sessionsBar(on: { attach(name: string): void }): {
  el: HTMLElement;
  render(list: TerminalSessionInfo[], current: string): void;
} {
  const el = h('nav', { class: 'sessions', 'aria-label': 'Sessions' });
  const newSession = () => {
    let question = 'Name of the new session (letters, digits, . _ -)';
    // A name the agent cannot take is asked again, saying why, not dropped without a word.
    for (;;) {
      const name = prompt(question);
      if (!name) return;
      if (/^[A-Za-z0-9._-]{1,64}$/.test(name)) return on.attach(name);
      question = `"${name}" is not a session name: use letters, digits, . _ - (at most 64)`;
    }
  };
  return {
    el,
    render(list, current) {
      const names = list.some((s) => s.name === current)
        ? list
        : [...list, { name: current, clients: [] } as unknown as TerminalSessionInfo];
      show(
        el,
        ...names.map((s) =>
          h(
            'button',
            {
              type: 'button',
              class: s.name === current ? 'session current' : 'session',
              'aria-current': s.name === current ? 'true' : undefined,
              'data-session': s.name,
              title: s.clients.length
                ? `attached: ${s.clients.map((c) => c.device_id).join(', ')}`
                : 'no device attached',
              onclick: () => on.attach(s.name),
            },
            s.name,
            h('span', { class: 'devices' }, s.clients.map((c) => c.device_id).join(', ') || '—'),
          ),
        ),
        h('button', { type: 'button', class: 'session new', onclick: newSession }, '+ New session'),
      );
    },
  };
}
