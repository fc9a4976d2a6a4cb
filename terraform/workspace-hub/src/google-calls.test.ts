// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform interpolations.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GOOGLE_CALLS,
  type GrantScope,
  type Identity,
  PREDEFINED_ROLE_PERMISSIONS,
} from './google-calls.js';
import { synthesizeModule } from './synthesize.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['core', 'hub', 'vm-agent', 'cloud-init', 'functions', 'client'];

/**
 * A line that talks to Google: an API host, the metadata server, a Google
 * client library, IAP's relay, docker's Google credential helper or log
 * driver, gcloud. (Calls to the hub start with the identity token they carry.)
 */
const GOOGLE_LINE =
  /googleapis\.com|metadata\.google\.internal|computeMetadata|service-accounts\/default|project\/project-id|@google-cloud\/|google-auth-library|cloudproxy\.app|docker-credential-gcr|gcplogs|'gcloud'/;

/** A code entry's file, or any file under it when it ends with a slash. */
const inPlace = (place: string, file: string) =>
  place.endsWith('/') ? file.startsWith(place) : file === place;

function sourceFiles(dir: string): string[] {
  return readdirSync(`${repo}${dir}`, { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === '__snapshots__' ? [] : sourceFiles(path);
    const test = /\.test\.ts$|(^|\/)test-[\w-]+\.ts$/.test(entry.name);
    return entry.name.endsWith('.ts') && !test ? [path] : [];
  });
}

/** Code lines (not comments) of the packages' sources that call Google, as "file: line". */
function googleLinesInCode(): string[] {
  return PACKAGES.flatMap((pkg) => sourceFiles(`${pkg}/src`)).flatMap((file) =>
    readFileSync(`${repo}${file}`, 'utf8')
      .split('\n')
      .filter((line) => GOOGLE_LINE.test(line) && !/^\s*(\/\/|\/?\*)/.test(line))
      .map((line) => `${file}: ${line.trim()}`),
  );
}

const MEMBERS: Record<string, Identity> = {
  '${google_service_account.hub_sa.member}': 'hub',
  '${google_service_account.workspace_sa.member}': 'workspace',
  '${google_service_account.scheduler_sa.member}': 'scheduler',
  '${google_service_account.reconcile_sa.member}': 'reconcile',
  '${each.value}': 'team',
  'serviceAccount:${google_project_service_identity.eventarc_agent.email}': 'eventarc agent',
};

type Block = Record<string, unknown>;

/** What an IAM resource of the module grants on, or undefined for one this test does not know. */
function scopeOf(type: string, grant: Block): GrantScope | undefined {
  const ref = JSON.stringify(grant);
  if (type === 'google_project_iam_member') return 'project';
  if (
    type === 'google_service_account_iam_member' &&
    ref.includes('google_service_account.workspace_sa.name')
  )
    return 'workspace account';
  if (
    type === 'google_secret_manager_secret_iam_member' &&
    grant.secret_id === '${each.value.secret_id}'
  )
    return 'each workspace secret';
  if (type === 'google_artifact_registry_repository_iam_member') return 'registry';
  if (type === 'google_cloud_run_v2_service_iam_member') {
    if (grant.name === '${google_cloud_run_v2_service.hub.name}') return 'hub service';
    if (grant.name === '${google_cloudfunctions2_function.reconcile.name}')
      return 'reconcile function';
  }
  if (type === 'google_iap_tunnel_iam_member') return 'IAP tunnels';
  return undefined;
}

const describeGrant = (by: string, role: string, on: string, condition?: string) =>
  `${by} has ${role} on ${on}${condition ? ` if ${condition}` : ''}`;

let resources: Record<string, Record<string, Block>>;
beforeAll(() => {
  resources = JSON.parse(synthesizeModule()['main.tf.json']!).resource;
});

describe('every Google API call the code makes', () => {
  it('is listed, and every listed call is still made', () => {
    const lines = googleLinesInCode();
    expect(lines.length).toBeGreaterThanOrEqual(20);
    const unlisted = lines.filter((found) =>
      GOOGLE_CALLS.every(({ code }) =>
        code.every(
          ([place, pattern]) => !(inPlace(place, found.split(': ')[0]!) && pattern.test(found)),
        ),
      ),
    );
    expect(unlisted).toEqual([]);
    for (const { call, code } of GOOGLE_CALLS)
      for (const [place, pattern] of code) {
        const files = place.endsWith('/') ? sourceFiles(place.slice(0, -1)) : [place];
        const made = files.some((file) => pattern.test(readFileSync(`${repo}${file}`, 'utf8')));
        expect(made, `${call}: ${place}`).toBe(true);
      }
  });

  it('needs only permissions its grant holds', () => {
    const custom = resources.google_project_iam_custom_role!;
    const holds = (role: string) => {
      const name = /google_project_iam_custom_role\.(\w+)\.name/.exec(role)?.[1];
      return name ? (custom[name]!.permissions as string[]) : PREDEFINED_ROLE_PERMISSIONS[role];
    };
    for (const { call, permissions, grant } of GOOGLE_CALLS) {
      if ('none' in grant) {
        expect(permissions, call).toEqual([]);
        continue;
      }
      expect(holds(grant.role), `${call}: ${grant.role}`).toBeDefined();
      expect(holds(grant.role), call).toEqual(expect.arrayContaining(permissions));
    }
  });

  it('is all the module grants: each identity holds exactly the listed grants', () => {
    const granted: string[] = [];
    for (const [type, blocks] of Object.entries(resources)) {
      if (!/_iam_(member|binding|policy)$/.test(type)) continue;
      for (const [id, grant] of Object.entries(blocks)) {
        const by = MEMBERS[grant.member as string] ?? `unknown member ${String(grant.member)}`;
        if (by === 'team') expect(grant.for_each, id).toBe('${toset(var.team_members)}');
        const on = scopeOf(type, grant) ?? `unknown ${type}.${id}`;
        const condition = (grant.condition as { expression?: string } | undefined)?.expression;
        granted.push(describeGrant(by, grant.role as string, on, condition));
      }
    }
    const listed = GOOGLE_CALLS.flatMap(({ by, grant }) =>
      'none' in grant
        ? []
        : by.map((who) => describeGrant(who, grant.role, grant.on, grant.condition)),
    );
    expect([...new Set(granted)].sort()).toEqual([...new Set(listed)].sort());
    // One resource per grant: a duplicate would hide a second, differently scoped one.
    expect(granted.length).toBe(new Set(granted).size);
  });
});
