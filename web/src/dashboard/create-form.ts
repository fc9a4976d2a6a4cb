import type { Workspace } from '@workspace-hub/api';
import { h } from '../dom.js';
import { type CreateRequest, type HubSettings, hub } from '../hub-api.js';
import { messageOf } from '../notice.js';

/** A labelled field: the label is what Playwright and screen readers find it by. */
function field(label: string, control: HTMLElement): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', {}, label), control);
}

function choices(values: string[], selected: string): HTMLSelectElement {
  return h(
    'select',
    {},
    ...values.map((v) => h('option', { value: v, selected: v === selected }, v)),
  );
}

/**
 * The create form, with only the machine types and zones this hub allows (`GET /config`;
 * a hub allowing any machine type gets a text field holding its default).
 */
export function createForm(
  settings: HubSettings,
  created: (w: Workspace) => void,
): HTMLFormElement {
  const name = h('input', { name: 'name', placeholder: 'from the repository' });
  const repo = h('input', { name: 'repo', placeholder: 'https://github.com/you/project.git' });
  const branch = h('input', { name: 'branch', placeholder: 'main' });
  const machine = settings.machine_types.length
    ? choices(settings.machine_types, settings.default_machine_type)
    : h('input', { name: 'machine_type', value: settings.default_machine_type });
  const zone = choices(settings.zones, settings.default_zone);
  const idle = h('input', {
    name: 'idle_timeout_minutes',
    type: 'number',
    min: 5,
    value: settings.idle_timeout_minutes,
  });
  const problem = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create workspace');
  // Kept while the same request is retried: the hub then returns the first workspace. A
  // changed form is another request, with a key of its own (the hub refuses a reused one).
  let idempotencyKey = '';
  let keyFor: string | null = null;
  const form = h(
    'form',
    { class: 'create-form', 'aria-label': 'New workspace' },
    field('Name', name),
    field('Repository', repo),
    field('Branch', branch),
    field('Machine type', machine),
    field('Zone', zone),
    field('Idle timeout (minutes)', idle),
    h('div', { class: 'form-actions' }, submit),
    problem,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const req: CreateRequest = {
      ...(name.value.trim() ? { name: name.value.trim() } : {}),
      ...(repo.value.trim() ? { repo: repo.value.trim() } : {}),
      ...(branch.value.trim() ? { branch: branch.value.trim() } : {}),
      machine_type: machine.value,
      zone: zone.value,
      ...(idle.value ? { idle_timeout_minutes: Number(idle.value) } : {}),
    };
    const request = JSON.stringify(req);
    if (request !== keyFor) {
      idempotencyKey = crypto.randomUUID();
      keyFor = request;
    }
    submit.disabled = true;
    submit.textContent = 'Creating…';
    problem.hidden = true;
    try {
      const w = await hub.create(req, idempotencyKey);
      keyFor = null;
      form.reset();
      created(w);
    } catch (err) {
      problem.textContent = messageOf(err);
      problem.hidden = false;
    } finally {
      submit.disabled = false;
      submit.textContent = 'Create workspace';
    }
  });
  return form;
}
