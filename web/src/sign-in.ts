import { signInAs } from './credential.js';
import { h, show } from './dom.js';

/**
 * Dev mode's sign-in (`HUB_AUTH=dev`): an email, sent as `Bearer dev:<email>`. Under `iap` and
 * `cloud-run-iam` the platform signs the user in and this form never shows.
 */
export function signInPage(root: HTMLElement, problem: string | null, signedIn: () => void): void {
  const email = h('input', {
    id: 'email',
    name: 'email',
    type: 'email',
    required: true,
    autocomplete: 'email',
    placeholder: 'you@example.com',
  });
  const form = h(
    'form',
    { class: 'sign-in', 'aria-label': 'Sign in' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'muted' }, 'This is a local hub (dev mode): anyone may sign in as any email.'),
    h('label', { for: 'email' }, 'Email'),
    email,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    problem ? h('p', { class: 'notice error', role: 'alert' }, problem) : null,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    signInAs(email.value);
    signedIn();
  });
  show(root, form);
  email.focus();
}
