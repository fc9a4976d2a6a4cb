import type { Workspace } from '@workspace-hub/api';
import { h } from '../dom.js';
import { timeLeft } from './countdown.js';
import { CHANGING, displayName, STATUS_LABEL } from './status.js';

export interface RowActions {
  stop(w: Workspace): void;
  start(w: Workspace): void;
  remove(w: Workspace): void;
  extend(w: Workspace): void;
}

/** One workspace as a table row: what it is, where it runs, how long until it is stopped. */
export function workspaceRow(w: Workspace, me: string, actions: RowActions): HTMLTableRowElement {
  const changing = CHANGING.has(w.status);
  const others = w.owner_email !== me;
  const button = (label: string, onclick: () => void, enabled = true) =>
    h('button', { type: 'button', onclick, disabled: !enabled }, label);
  const where = [w.metadata.repo, w.metadata.branch && `@ ${w.metadata.branch}`]
    .filter(Boolean)
    .join(' ');
  return h(
    'tr',
    { 'data-workspace-id': w.id, 'data-status': w.status, class: others ? 'others' : undefined },
    h(
      'td',
      {},
      h('a', { href: `#/workspaces/${w.id}`, class: 'ws-name' }, displayName(w)),
      displayName(w) !== w.id ? h('div', { class: 'muted small' }, w.id) : null,
      others
        ? h('div', { class: 'owner-badge', title: 'another user’s workspace' }, w.owner_email)
        : null,
    ),
    h(
      'td',
      {},
      h('span', { class: `status status-${w.status.toLowerCase()}` }, STATUS_LABEL[w.status]),
      changing ? h('progress', { class: 'busy', 'aria-label': STATUS_LABEL[w.status] }) : null,
      w.status_reason || w.error
        ? h('div', { class: 'muted small reason' }, w.error?.message ?? w.status_reason ?? '')
        : null,
    ),
    h('td', {}, w.machine_type, h('div', { class: 'muted small' }, w.zone)),
    h('td', {}, where || h('span', { class: 'muted' }, '—')),
    h('td', {}, w.last_device_id ?? h('span', { class: 'muted' }, '—')),
    h(
      'td',
      { class: 'countdown', 'data-deadline': w.status === 'READY' ? (w.deadline ?? '') : '' },
      w.status === 'READY' ? timeLeft(w.deadline) : '—',
    ),
    h(
      'td',
      {},
      h(
        'div',
        { class: 'actions' },
        w.status === 'READY' || w.status === 'PROVISIONING' || w.status === 'RESUMING'
          ? h('a', { class: 'button primary', href: `#/workspaces/${w.id}` }, 'Terminal')
          : null,
        w.status === 'READY' ? button('Extend', () => actions.extend(w)) : null,
        w.status === 'READY' ? button('Stop', () => actions.stop(w)) : null,
        w.status === 'SUSPENDED' || w.status === 'ERROR'
          ? button('Start', () => actions.start(w))
          : null,
        button('Delete', () => actions.remove(w), w.status !== 'DELETING'),
      ),
    ),
  );
}

/** Keeps every countdown on the page ticking between polls. */
export function tickCountdowns(root: ParentNode): void {
  for (const cell of root.querySelectorAll<HTMLElement>('[data-deadline]')) {
    const deadline = cell.dataset.deadline;
    if (deadline) cell.textContent = timeLeft(deadline);
  }
}
