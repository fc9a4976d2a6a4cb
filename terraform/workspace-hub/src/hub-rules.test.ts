// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions under test.
import { HubConfigSchema } from '@workspace-hub/hub';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizeModule } from './synthesize.js';

type Value = number | string | string[];

/**
 * Evaluates the small part of Terraform's language the module's validations and
 * environment use (var.*, comparisons, && || !, ?:, floor, length, tostring,
 * join, contains, alltrue over a for, can(regex)) by translating it to
 * JavaScript; anything else fails the translation instead of guessing.
 */
function evaluate(expression: string, vars: Record<string, Value>): unknown {
  const body = expression.replace(/^\$\{/, '').replace(/\}$/, '');
  const js = body
    .replace(/alltrue\(\[for (\w+) in ([\w.]+) : (.*)\]\)/g, '$2.every(($1) => $3)')
    .replace(/can\(regex\(("(?:[^"\\]|\\.)*"), ([\w.]+)\)\)/g, 're($1).test($2)')
    .replace(/\bvar\.(\w+)/g, 'vars.$1')
    .replace(/(?<![=!<>])==(?!=)/g, '===')
    .replace(/!=(?!=)/g, '!==');
  const rest = js.replace(/"(?:[^"\\]|\\.)*"|vars\.\w+/g, '');
  const unknown = rest
    .match(/[A-Za-z_]\w*/g)
    ?.filter(
      (word) =>
        !['re', 'test', 'every', 'floor', 'length', 'tostring', 'join', 'contains'].includes(
          word,
        ) && !/^[a-z]$/.test(word),
    );
  if (unknown?.length) throw new Error(`cannot evaluate ${expression}: ${unknown.join(', ')}`);
  const re = (pattern: string) => new RegExp(pattern.replaceAll('(?P<', '(?<'));
  const helpers = {
    re,
    floor: Math.floor,
    length: (v: string | unknown[]) => v.length,
    tostring: String,
    join: (separator: string, list: string[]) => list.join(separator),
    contains: (list: unknown[], v: unknown) => list.includes(v),
  };
  return new Function('vars', ...Object.keys(helpers), `return (${js});`)(
    vars,
    ...Object.values(helpers),
  );
}

/** A seeded generator, so a failure names values that reproduce. */
function* mutations(seed: string, alphabet: string, count: number, start = 7): Generator<string> {
  let state = start;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state;
  };
  for (let i = 0; i < count; i++) {
    const at = next() % (seed.length + 1);
    const char = alphabet[next() % alphabet.length]!;
    yield next() % 2 === 0
      ? seed.slice(0, at) + char + seed.slice(at + 1)
      : seed.slice(0, at) + char + seed.slice(at);
  }
}

const IMAGE = 'europe-west1-docker.pkg.dev/acme-dev/workspace-hub/workspace:v1';
const NUMBERS = [-1, 0, 0.5, 1, 1.5, 2, 59, 240, 480.25, 1023, 1024, 2222, 65535, 65536, 1e6];
const SAMPLES: Record<string, Value[]> = {
  idle_timeout_minutes: NUMBERS,
  max_extend_minutes: NUMBERS,
  events_retention_days: NUMBERS,
  retention_days: NUMBERS,
  suspended_limit_action: ['stop', 'delete', 'Stop', 'resume', 'stop '],
  max_workspaces_per_user: NUMBERS,
  agent_port: NUMBERS,
  workspace_image: [
    IMAGE,
    'europe-west1-docker.pkg.dev/acme-dev/workspace-hub/Workspace:v1',
    'europe-west1-docker.pkg.dev/Acme-Dev/workspace-hub/workspace:v1',
    'europe-west1-docker.pkg.dev/acme-dev/workspace-hub/workspace',
    'gcr.io/acme-dev/workspace:v1',
    `${IMAGE}@sha256:${'a'.repeat(64)}`,
    `europe-west1-docker.pkg.dev/acme-dev/workspace-hub/${'w'.repeat(500)}:v1`,
    ...mutations(IMAGE, 'Aa0:@/._-', 300),
  ],
  workspace_secret_names: [
    [],
    ['github-token', 'npm_TOKEN'],
    ['has space'],
    ['dot.name'],
    ['x'.repeat(255)],
    ['x'.repeat(256)],
    [''],
    ...[...mutations('github-token', 'A_-./ é', 100)].map((name) => [name]),
  ],
  hub_url: [
    '',
    'https://hub.example.com',
    'https://hub.example.com/',
    'http://127.0.0.1:8080',
    'https://hub.example.com/base?x=1',
    'hub.example.com',
    'ftp://hub.example.com',
    'https://',
  ],
};

let variables: Record<string, { default?: Value; validation?: Array<{ condition: string }> }>;
let environment: Record<string, string>;
let locals: Record<string, unknown>;
beforeAll(() => {
  const files = synthesizeModule();
  variables = JSON.parse(files['variables.tf.json']!).variable;
  locals = JSON.parse(files['main.tf.json']!).locals;
  environment = locals.hub_environment as Record<string, string>;
});

/** What `terraform plan` says of a value: every validation of the variable holds. */
const planAccepts = (name: string, value: Value) =>
  (variables[name]!.validation ?? []).every((rule) => evaluate(rule.condition, { [name]: value }));

/** What the hub says of the environment the module would give it. */
function hubAccepts(name: string, value: Value): boolean {
  const vars = Object.fromEntries(
    Object.entries(variables).map(([key, v]) => [key, key === name ? value : v.default]),
  ) as Record<string, Value>;
  const env: Record<string, string> = {
    HUB_DRIVER: 'gce',
    HUB_AUTH: 'cloud-run-iam',
    HUB_URL: 'https://workspace-hub-123.europe-west1.run.app',
    HUB_WORKSPACE_IMAGE: IMAGE,
  };
  if (name === 'hub_url') {
    // HUB_URL comes through local.hub_public_url: the value without its trailing slash, if set.
    expect(locals.hub_public_url).toContain('trimsuffix(var.hub_url, "/")');
    if (value !== '') env.HUB_URL = String(value).replace(/\/$/, '');
  }
  for (const [key, expression] of Object.entries(environment)) {
    if (!expression.includes(`var.${name}`)) continue;
    const rendered = String(evaluate(expression, vars));
    // The module leaves empty settings unset; a non-empty list that renders empty never arrives.
    if (rendered !== '') env[key] = rendered;
    else if (Array.isArray(value) && value.length > 0) return false;
    else delete env[key];
  }
  const parsed = HubConfigSchema.safeParse(env);
  if (!parsed.success) return false;
  // A list the hub tidies up (trims, drops empty entries) is not the list that was set: the
  // module creates resources from the list as given.
  return Object.entries(env).every(([key, rendered]) => {
    const seen = (parsed.data as Record<string, unknown>)[key];
    return !Array.isArray(seen) || !Array.isArray(value) || seen.join(',') === rendered;
  });
}

describe('the module’s validations', () => {
  it('are evaluated here as Terraform evaluates them', () => {
    expect(evaluate('${var.a >= 1 && floor(var.a) == var.a}', { a: 1.5 })).toBe(false);
    expect(evaluate('${var.a > 0 ? tostring(var.a) : ""}', { a: 0 })).toBe('');
    expect(() => evaluate('${lookup(var.a, "x")}', { a: 1 })).toThrow(/cannot evaluate/);
  });

  for (const [name, samples] of Object.entries(SAMPLES)) {
    it(`accept exactly the ${name} values the hub accepts`, () => {
      const disagreements = samples
        .map((value) => ({ value, plan: planAccepts(name, value), hub: hubAccepts(name, value) }))
        .filter(({ plan, hub }) => plan !== hub);
      expect(disagreements).toEqual([]);
      // Both sides see valid and invalid samples, so agreement is not vacuous.
      const verdicts = new Set(samples.map((value) => hubAccepts(name, value)));
      expect(verdicts).toEqual(new Set([true, false]));
    });
  }

  it('cover every variable that becomes a hub setting checked above', () => {
    const feeding = Object.keys(variables).filter((name) =>
      Object.values(environment).some((expression) => expression.includes(`var.${name}`)),
    );
    const unchecked = feeding.filter((name) => !(name in SAMPLES));
    expect(feeding).not.toContain('hub_url'); // it feeds HUB_URL through a local, handled above
    // Lists and names the hub takes as any non-empty string, or that are checked elsewhere.
    expect(unchecked.sort()).toEqual(
      [
        'admins',
        'allowed_domains',
        'allowed_machine_types',
        'allowed_users',
        'allowed_zones',
        'default_machine_type',
        'hub_auth',
        'project',
        'workspace_external_ip',
        'zone',
      ].sort(),
    );
  });
});
