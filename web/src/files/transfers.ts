import { h } from '../dom.js';
import { formatSize } from './format.js';

/** One upload or download shown with a progress bar; `cancel` when it can be stopped. */
export interface Transfer {
  progress(done: number, total: number | null): void;
  finish(text: string): void;
  fail(text: string): void;
}

/** The list of transfers under way (and the last finished ones) at the top of the panel. */
export function transferList(): {
  el: HTMLElement;
  add(label: string, cancel?: () => void): Transfer;
} {
  const el = h('ul', { class: 'files-transfers', 'aria-label': 'Transfers' });
  return {
    el,
    add(label, cancel) {
      const bar = h('progress', { max: 1, value: 0 });
      const text = h('span', { class: 'files-transfer-text' }, 'starting…');
      const stop = cancel
        ? h('button', { type: 'button', class: 'link', onclick: () => cancel() }, 'cancel')
        : null;
      const item = h(
        'li',
        { class: 'files-transfer' },
        h('span', { class: 'files-transfer-name' }, label),
        bar,
        text,
        stop,
      );
      el.prepend(item);
      const done = (cls: string, t: string) => {
        item.classList.add(cls);
        text.textContent = t;
        stop?.remove();
        // Finished transfers stay a moment so the user sees the outcome, then leave.
        if (cls === 'ok') setTimeout(() => item.remove(), 8000);
      };
      return {
        progress(n, total) {
          if (total) {
            bar.max = total;
            bar.value = n;
            text.textContent = `${formatSize(n)} of ${formatSize(total)}`;
          } else {
            bar.removeAttribute('value');
            text.textContent = formatSize(n);
          }
        },
        finish: (t) => {
          bar.max = 1;
          bar.value = 1;
          done('ok', t);
        },
        fail: (t) => done('failed', t),
      };
    },
  };
}
