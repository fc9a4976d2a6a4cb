import type { Me, Workspace } from '@workspace-hub/api';
import { h, show } from '../dom.js';
import { type HubSettings, hub } from '../hub-api.js';
import { noticeArea } from '../notice.js';
import { startPolling } from '../poller.js';
import { createForm } from './create-form.js';
import { CHANGING, displayName } from './status.js';
import { tickCountdowns, workspaceRow } from './workspace-row.js';

const HEADINGS = [
  'Workspace',
  'Status',
  'Machine',
  'Repository',
  'Last device',
  'Idle stop in',
  '',
];

/**
 * The dashboard: the caller's workspaces (an admin may show everyone's), refreshed by polling
 * the list, and each changing workspace's status (which reconciles it with Compute Engine).
 * Returns a function that stops its timers when the page changes.
 */
export function dashboardPage(root: HTMLElement, me: Me, settings: HubSettings): () => void {
  const notice = noticeArea();
  const body = h('tbody');
  let everyone = false;
  let latest: Workspace[] = [];
  /** The workspace just created: its notice goes once it is provisioned. */
  let creating: string | null = null;

  const act = async (what: string, run: () => Promise<unknown>) => {
    notice.info(what);
    try {
      await run();
      notice.clear();
    } catch (err) {
      notice.error(err);
    }
    poller.now();
  };
  const actions = {
    stop: (w: Workspace) => act(`Stopping ${displayName(w)}…`, () => hub.stop(w.id)),
    start: (w: Workspace) => act(`Starting ${displayName(w)}…`, () => hub.start(w.id)),
    extend: (w: Workspace) =>
      act(`Extending ${displayName(w)}…`, () =>
        hub.extend(w.id, Math.min(60, settings.max_extend_minutes)),
      ),
    remove: (w: Workspace) => {
      if (!confirm(`Delete ${displayName(w)}? Its VM and home disk are deleted for good.`)) return;
      void act(`Deleting ${displayName(w)}…`, () => hub.remove(w.id));
    },
  };

  const render = () => {
    show(
      body,
      ...(latest.length
        ? latest.map((w) => workspaceRow(w, me.email, actions))
        : [
            h(
              'tr',
              {},
              h('td', { colspan: HEADINGS.length, class: 'muted empty' }, 'No workspaces yet.'),
            ),
          ]),
    );
  };

  const poller = startPolling(async () => {
    const { workspaces } = await hub.list(everyone);
    // The list shows what is stored; a changing workspace's status reconciles it with the VM.
    const changing = workspaces.filter((w) => CHANGING.has(w.status));
    const reports = await Promise.allSettled(changing.map((w) => hub.status(w.id)));
    const fresh = new Map<string, Workspace>();
    for (const r of reports)
      if (r.status === 'fulfilled') fresh.set(r.value.workspace.id, r.value.workspace);
    latest = workspaces.map((w) => fresh.get(w.id) ?? w);
    const created = latest.find((w) => w.id === creating);
    if (created && !CHANGING.has(created.status)) {
      creating = null;
      notice.clear();
    }
    render();
    return latest.some((w) => CHANGING.has(w.status)) ? 'changing' : 'steady';
  });

  const form = createForm(settings, (w) => {
    creating = w.id;
    notice.info(`Creating ${displayName(w)}…`);
    latest = [w, ...latest.filter((x) => x.id !== w.id)];
    render();
    poller.now();
  });
  const scope = me.admin
    ? h(
        'label',
        { class: 'scope' },
        h('input', {
          type: 'checkbox',
          onchange: (ev: Event) => {
            everyone = (ev.target as HTMLInputElement).checked;
            poller.now();
          },
        }),
        ' Everyone’s workspaces',
      )
    : null;
  show(
    root,
    h(
      'section',
      { class: 'dashboard' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Workspaces'), scope),
      notice.el,
      h(
        'table',
        { class: 'workspaces' },
        h('thead', {}, h('tr', {}, ...HEADINGS.map((t) => h('th', {}, t)))),
        body,
      ),
      h('details', { class: 'create', open: true }, h('summary', {}, 'New workspace'), form),
    ),
  );
  const ticker = setInterval(() => tickCountdowns(body), 1000);
  return () => {
    poller.stop();
    clearInterval(ticker);
  };
}
