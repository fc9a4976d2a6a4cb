// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform interpolations.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { newWorkspaceId } from '@workspace-hub/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  HUB_COMPUTE_CALLS,
  RECONCILE_COMPUTE_PERMISSIONS,
  RECONCILE_DRIVER_CALLS,
  WORKSPACE_NAME_PREFIX,
} from './hub-permissions.js';
import { synthesizeModule } from './synthesize.js';

const computeDir = fileURLToPath(new URL('../../../core/src/compute/', import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** The Compute Engine methods the driver's source calls, read from the source itself. */
function callsInDriver(): Set<string> {
  const calls = new Set<string>();
  for (const file of readdirSync(computeDir).filter(
    (f) => f.startsWith('gce-') && f.endsWith('.ts') && !f.endsWith('.test.ts'),
  )) {
    const source = readFileSync(`${computeDir}${file}`, 'utf8');
    // The client library: c.insert({ project, ... }), operations.wait(...).
    for (const [, method] of source.matchAll(/\bc\.(\w+)\(\{ project/g))
      calls.add(`instances.${method}`);
    for (const [, method] of source.matchAll(/\boperations\.(\w+)\(/g))
      if (method !== 'close') calls.add(`zoneOperations.${method}`); // close ends the client
    // Plain REST: instance verbs, an instance, the list, an operation.
    for (const [, verb] of source.matchAll(/instancePath\((?:[^()]|\([^()]*\))*?'\/(\w+)'\)/g))
      calls.add(`instances.${verb}`);
    if (/method: 'DELETE',\s*path: instancePath\(c\)/.test(source)) calls.add('instances.delete');
    if (/'GET', path, `get /.test(source)) calls.add('instances.get');
    if (/\/instances\?\$\{query\}/.test(source)) calls.add('instances.list');
    if (/\/operations\/\$\{/.test(source)) calls.add('zoneOperations.get');
  }
  return calls;
}

type Block = Record<string, unknown>;
let resources: Record<string, Record<string, Block>>;
beforeAll(() => {
  resources = JSON.parse(synthesizeModule()['main.tf.json']!).resource;
});

describe('the hub’s Compute Engine permissions', () => {
  it('list every call the gce driver makes, and no call it does not make', () => {
    const made = callsInDriver();
    expect(made.size).toBeGreaterThanOrEqual(10);
    expect([...made].sort()).toEqual(Object.keys(HUB_COMPUTE_CALLS).sort());
  });

  it('are granted as exactly those permissions, on workspace instances and disks only', () => {
    const role = resources.google_project_iam_custom_role!.hub_compute_role!;
    const needed = [...new Set(Object.values(HUB_COMPUTE_CALLS).flat())].sort();
    expect([...(role.permissions as string[])].sort()).toEqual(needed);
    const hubGrants = Object.values(resources.google_project_iam_member!).filter(
      (grant) => grant.member === '${google_service_account.hub_sa.member}',
    );
    expect(hubGrants.map((grant) => grant.role).sort()).toEqual(
      ['${google_project_iam_custom_role.hub_compute_role.name}', 'roles/datastore.user'].sort(),
    );
    const compute = hubGrants.find((grant) => grant.role !== 'roles/datastore.user')!;
    const expression = (compute.condition as { expression: string }).expression;
    expect(expression).toContain(`.startsWith("${WORKSPACE_NAME_PREFIX}")`);
    // The driver names instances (and their disks) after workspace ids.
    expect(newWorkspaceId().startsWith(WORKSPACE_NAME_PREFIX)).toBe(true);
  });

  it('lets the team tunnel through IAP to the agent port only', () => {
    expect(resources.google_project_iam_member?.team_iap_tunnel).toBeUndefined();
    expect(resources.google_iap_tunnel_iam_member?.team_iap_tunnel).toMatchObject({
      role: 'roles/iap.tunnelResourceAccessor',
      member: '${each.value}',
      condition: { expression: 'destination.port == ${var.agent_port}' },
    });
  });

  it('let the reconcile function make only the reads syncWorkspace makes', () => {
    const functionsSource = readdirSync(`${repo}functions/src`)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => readFileSync(`${repo}functions/src/${f}`, 'utf8'))
      .join('\n');
    // The function hands its driver to syncWorkspace and calls none of it itself.
    expect(functionsSource).toContain('syncWorkspace(');
    expect(functionsSource).not.toMatch(/\bdriver\.\w+\(/);
    const sync = readFileSync(`${repo}core/src/sync.ts`, 'utf8');
    const used = [...sync.matchAll(/\bdriver\.(\w+)\(/g)].map(([, method]) => method!);
    expect([...new Set(used)].sort()).toEqual(Object.keys(RECONCILE_DRIVER_CALLS).sort());
    const role = resources.google_project_iam_custom_role!.reconcile_compute_role!;
    expect(role.permissions).toEqual(RECONCILE_COMPUTE_PERMISSIONS);
    expect(RECONCILE_COMPUTE_PERMISSIONS).toEqual([
      'compute.instances.get',
      'compute.zoneOperations.get',
    ]);
    const grants = Object.values(resources.google_project_iam_member!).map((grant) => grant.role);
    expect(grants).not.toContain('roles/compute.viewer');
  });
});
