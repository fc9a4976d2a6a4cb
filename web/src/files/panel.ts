import type { FileEntry } from '@workspace-hub/api';
import { h, show } from '../dom.js';
import { HubProblem } from '../hub-api.js';
import { messageOf, noticeArea } from '../notice.js';
import { downloadFile, filesApi, uploadFile } from './files-api.js';
import {
  formatSize,
  formatTime,
  joinPath,
  linkNote,
  opensAsFile,
  opensAsFolder,
  parentOf,
} from './format.js';
import { transferList } from './transfers.js';

const RETRIED = new Set(['workspace_not_ready', 'agent_unreachable', 'connection_lost']);

/**
 * The files panel: browse the workspace home, upload several files (progress each), download,
 * new folder, rename, delete (confirmed). Every refusal shows the problem's `detail`.
 */
export function filesPanel(root: HTMLElement, workspaceId: string): () => void {
  let cwd = '';
  let disposed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const uploads = new Set<AbortController>();
  const notice = noticeArea();
  /** The notice shows the listing's own failure (not ready yet): a listing that works clears it. */
  let listingFailed = false;
  const transfers = transferList();
  const crumbs = h('nav', { class: 'files-crumbs', 'aria-label': 'Folder' });
  const table = h('table', { class: 'files-table' });
  const picker = h('input', {
    type: 'file',
    multiple: true,
    hidden: true,
    'aria-label': 'Files to upload',
  });
  picker.addEventListener('change', () => {
    const chosen = [...(picker.files ?? [])];
    picker.value = '';
    void uploadAll(chosen);
  });

  const toolbar = h(
    'div',
    { class: 'files-toolbar' },
    h('button', { type: 'button', onclick: () => picker.click() }, 'Upload'),
    h('button', { type: 'button', onclick: () => void newFolder() }, 'New folder'),
    h('button', { type: 'button', class: 'link', onclick: () => void refresh() }, 'Refresh'),
    picker,
  );
  show(
    root,
    h('h2', { class: 'files-title' }, 'Files'),
    toolbar,
    crumbs,
    notice.el,
    transfers.el,
    table,
  );

  // Files dropped on the panel are uploaded into the folder shown.
  root.addEventListener('dragover', (e) => {
    e.preventDefault();
    root.classList.add('files-drop');
  });
  root.addEventListener('dragleave', () => root.classList.remove('files-drop'));
  root.addEventListener('drop', (e) => {
    e.preventDefault();
    root.classList.remove('files-drop');
    void uploadAll([...(e.dataTransfer?.files ?? [])]);
  });

  const act = async (work: () => Promise<unknown>) => {
    try {
      notice.clear();
      await work();
    } catch (err) {
      notice.error(err);
      listingFailed = false;
    }
    await refresh();
  };

  async function refresh(): Promise<void> {
    clearTimeout(retry);
    try {
      const listing = await filesApi.list(workspaceId, cwd);
      if (disposed) return;
      if (listingFailed) notice.clear();
      listingFailed = false;
      renderCrumbs();
      renderEntries(listing.entries, listing.truncated);
    } catch (err) {
      if (disposed) return;
      // A folder that went away (renamed, deleted elsewhere): back to its parent.
      if (err instanceof HubProblem && err.code === 'not_found' && cwd !== '') {
        cwd = parentOf(cwd);
        return refresh();
      }
      notice.error(err);
      listingFailed = true;
      show(table);
      // Not ready yet (starting, resuming) or the agent briefly away: look again by itself.
      if (err instanceof HubProblem && RETRIED.has(err.code)) retry = setTimeout(refresh, 3000);
    }
  }

  function open(path: string) {
    cwd = path;
    notice.clear();
    void refresh();
  }

  function renderCrumbs() {
    const parts = cwd === '' ? [] : cwd.split('/');
    const items: Node[] = [
      h('button', { type: 'button', class: 'link', onclick: () => open('') }, '~'),
    ];
    parts.forEach((name, i) => {
      const path = parts.slice(0, i + 1).join('/');
      items.push(document.createTextNode(' / '));
      items.push(h('button', { type: 'button', class: 'link', onclick: () => open(path) }, name));
    });
    show(crumbs, ...items);
  }

  function renderEntries(entries: FileEntry[], truncated: boolean) {
    const rows = entries.map((e) => entryRow(e));
    if (cwd !== '')
      rows.unshift(
        h(
          'tr',
          {},
          h(
            'td',
            { colspan: 2 },
            h(
              'button',
              { type: 'button', class: 'link', onclick: () => open(parentOf(cwd)) },
              '↑ ..',
            ),
          ),
        ),
      );
    if (entries.length === 0)
      rows.push(h('tr', {}, h('td', { colspan: 2, class: 'muted' }, 'empty folder')));
    if (truncated)
      rows.push(
        h(
          'tr',
          {},
          h('td', { colspan: 2, class: 'muted' }, 'only the first 10,000 entries are shown'),
        ),
      );
    show(table, h('tbody', {}, ...rows));
  }

  function entryRow(e: FileEntry): HTMLTableRowElement {
    const path = joinPath(cwd, e.name);
    const note = linkNote(e);
    const name = opensAsFolder(e)
      ? h(
          'button',
          { type: 'button', class: 'link files-folder', onclick: () => open(path) },
          `${e.name}/`,
        )
      : opensAsFile(e)
        ? h(
            'button',
            {
              type: 'button',
              class: 'link files-file',
              title: 'Download',
              onclick: () => void download(path),
            },
            e.name,
          )
        : h('span', { class: 'files-other' }, e.name);
    const details = [e.type === 'directory' ? null : formatSize(e.size), formatTime(e.mtime)]
      .filter(Boolean)
      .join(' · ');
    return h(
      'tr',
      { 'data-name': e.name },
      h(
        'td',
        { class: 'files-name' },
        name,
        h('div', { class: 'muted files-details' }, details),
        note ? h('div', { class: 'muted files-link' }, note) : null,
        // The hub refuses to change it (the agent's own folder): no actions that cannot work.
        e.read_only ? h('div', { class: 'muted files-read-only' }, e.read_only) : null,
      ),
      h(
        'td',
        { class: 'files-actions' },
        ...(e.read_only
          ? []
          : [
              h(
                'button',
                { type: 'button', class: 'link', onclick: () => void rename(e, path) },
                'rename',
              ),
              h(
                'button',
                { type: 'button', class: 'link danger', onclick: () => void remove(e, path) },
                'delete',
              ),
            ]),
      ),
    );
  }

  async function newFolder() {
    const name = prompt('New folder name')?.trim();
    if (!name) return;
    await act(() => filesApi.mkdir(workspaceId, joinPath(cwd, name)));
  }

  async function rename(e: FileEntry, path: string) {
    const to = prompt(`Rename ${e.name} to (a path relative to this folder)`, e.name)?.trim();
    if (!to || to === e.name) return;
    await act(() => filesApi.rename(workspaceId, path, joinPath(cwd, to)));
  }

  async function remove(e: FileEntry, path: string) {
    const folder = e.type === 'directory';
    const question = folder
      ? `Delete the folder ${e.name} and everything in it?`
      : `Delete ${e.name}?`;
    if (!confirm(question)) return;
    await act(() => filesApi.remove(workspaceId, path, folder));
  }

  async function download(path: string) {
    const t = transfers.add(`↓ ${path}`);
    try {
      await downloadFile(workspaceId, path, (n, total) => t.progress(n, total));
      t.finish('downloaded');
    } catch (err) {
      t.fail(messageOf(err));
    }
  }

  async function uploadAll(chosen: File[]) {
    const dir = cwd;
    // One after another: each already keeps the link busy, and the order is what the user sees.
    for (const file of chosen) {
      const abort = new AbortController();
      uploads.add(abort);
      const t = transfers.add(`↑ ${file.name}`, () => abort.abort());
      try {
        await uploadFile(
          workspaceId,
          joinPath(dir, file.name),
          file,
          (n) => t.progress(n, file.size),
          abort.signal,
        );
        t.finish('uploaded');
      } catch (err) {
        t.fail(messageOf(err));
      } finally {
        uploads.delete(abort);
      }
      if (!disposed && cwd === dir) await refresh();
    }
  }

  void refresh();
  return () => {
    disposed = true;
    clearTimeout(retry);
    for (const abort of uploads) abort.abort();
  };
}
