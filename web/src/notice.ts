import { HubProblem } from './hub-api.js';

/** One line telling the user what just went wrong (the problem's detail) or what is going on. */
export function noticeArea(): {
  el: HTMLElement;
  error(err: unknown): void;
  info(text: string): void;
  clear(): void;
} {
  const el = document.createElement('div');
  el.className = 'notice';
  el.setAttribute('role', 'status');
  el.hidden = true;
  const set = (text: string, kind: 'error' | 'info') => {
    el.textContent = text;
    el.className = `notice ${kind}`;
    el.hidden = false;
  };
  return {
    el,
    error: (err) => set(messageOf(err), 'error'),
    info: (text) => set(text, 'info'),
    clear: () => {
      el.hidden = true;
      el.textContent = '';
    },
  };
}

export function messageOf(err: unknown): string {
  if (err instanceof HubProblem) return err.detail;
  return 'something went wrong; try again';
}
