import './styles.css';
import type { Me } from '@workspace-hub/api';
import { devEmail, signOut } from './credential.js';
import { installCspStyleShim } from './csp-style-shim.js';
import { dashboardPage } from './dashboard/page.js';
import { h, show } from './dom.js';
import { HubProblem, type HubSettings, hub } from './hub-api.js';
import { messageOf } from './notice.js';
import { signInPage } from './sign-in.js';
import { terminalPage } from './terminal/page.js';

installCspStyleShim();

const app = document.getElementById('app') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;
let leave: () => void = () => undefined;
let signedIn: { me: Me; settings: HubSettings } | null = null;

/** `#/` the dashboard, `#/workspaces/ID[/SESSION]` a terminal (hash routes: no server fallback). */
function route(): void {
  if (!signedIn) return;
  leave();
  const m = /^#\/workspaces\/([^/]+)(?:\/([^/]+))?$/.exec(location.hash);
  leave = m
    ? terminalPage(app, decodeURIComponent(m[1] as string), decodeURIComponent(m[2] ?? 'main'))
    : dashboardPage(app, signedIn.me, signedIn.settings);
}

/** HUB_AUTH, which the hub tells anyone in `GET /health`. */
async function hubAuth(): Promise<string | undefined> {
  try {
    return ((await (await fetch('/health')).json()) as { auth?: string }).auth;
  } catch {
    return undefined;
  }
}

/** Who the hub takes us for (`GET /me`): under iap and cloud-run-iam that is the platform's word. */
async function start(): Promise<void> {
  try {
    const [me, settings] = await Promise.all([hub.me(), hub.settings()]);
    signedIn = { me, settings };
  } catch (err) {
    // Only a dev hub takes an email for a sign-in; elsewhere a 401 is the platform's problem.
    if (err instanceof HubProblem && err.status === 401 && (await hubAuth()) === 'dev')
      return signInPage(app, devEmail() ? err.detail : null, () => void start());
    show(app, h('p', { class: 'notice error', role: 'alert' }, messageOf(err)));
    return;
  }
  const me = signedIn.me;
  show(
    who,
    me.email,
    me.admin ? h('span', { class: 'admin-badge' }, 'admin') : null,
    devEmail()
      ? h(
          'button',
          {
            type: 'button',
            class: 'link',
            onclick: () => {
              signOut();
              location.reload();
            },
          },
          'Sign out',
        )
      : null,
  );
  route();
}

window.addEventListener('hashchange', route);
void start();
