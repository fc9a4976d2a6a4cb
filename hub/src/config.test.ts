import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const IMAGE = 'europe-docker.pkg.dev/acme-dev-123/workspace-hub/workspace';
const GCE = {
  HUB_DRIVER: 'gce',
  HUB_AUTH: 'cloud-run-iam',
  HUB_URL: 'https://workspace-hub-123.europe-west1.run.app',
  HUB_WORKSPACE_IMAGE: `${IMAGE}:v1`,
};

/** The start-up error's lines, one per bad variable. */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('the hub configuration, parsed once into settings', () => {
  it('compares emails lower-cased: admins, allowed users and domains, the Scheduler account', () => {
    const config = loadConfig({
      ...GCE,
      HUB_ADMINS: ' Ana@Example.COM, bob@example.com ,',
      HUB_ALLOWED_USERS: 'Carol@Partner.org',
      HUB_ALLOWED_DOMAINS: 'Example.com',
      HUB_SCHEDULER_SA: 'Scheduler@acme-dev-123.iam.gserviceaccount.com',
    });
    expect(config.access).toEqual({
      admins: ['ana@example.com', 'bob@example.com'],
      users: ['carol@partner.org'],
      domains: ['example.com'],
    });
    expect(config.schedulerSa).toBe('scheduler@acme-dev-123.iam.gserviceaccount.com');
  });

  it('serves HUB_ZONE alone unless HUB_ALLOWED_ZONES lists more, and builds the rules of new workspaces', () => {
    expect(loadConfig({ ...GCE, HUB_ZONE: 'us-east1-b' }).zones).toEqual(['us-east1-b']);
    const config = loadConfig({
      ...GCE,
      HUB_ZONE: 'us-east1-b',
      HUB_ALLOWED_ZONES: 'us-east1-b,europe-west1-b',
      HUB_ALLOWED_MACHINE_TYPES: 'e2-standard-4,n2-standard-8',
      HUB_DEFAULT_DISK_SIZE_GB: '100',
      HUB_IDLE_TIMEOUT_MINUTES: '60',
      HUB_MAX_WORKSPACES_PER_USER: '3',
      GOOGLE_CLOUD_PROJECT: 'acme-dev-123',
    });
    expect(config.zones).toEqual(['us-east1-b', 'europe-west1-b']);
    expect(config.provisioning).toEqual({
      projectId: 'acme-dev-123',
      defaultZone: 'us-east1-b',
      allowedZones: ['us-east1-b', 'europe-west1-b'],
      defaultMachineType: 'e2-standard-4',
      allowedMachineTypes: ['e2-standard-4', 'n2-standard-8'],
      defaultDiskSizeGb: 100,
      defaultImageTag: 'v1',
      idleTimeoutMinutes: 60,
      maxWorkspacesPerUser: 3,
    });
  });

  it('splits the image into repository, tag and digest, a digest-pinned one included', () => {
    const pinned = loadConfig({ ...GCE, HUB_WORKSPACE_IMAGE: `${IMAGE}:v1@${DIGEST}` });
    expect(pinned.workspaceImage).toEqual({ repository: IMAGE, tag: 'v1', digest: DIGEST });
    expect(pinned.provisioning.defaultImageTag).toBe(`v1@${DIGEST}`);
    const digestOnly = loadConfig({ ...GCE, HUB_WORKSPACE_IMAGE: `${IMAGE}@${DIGEST}` });
    expect(digestOnly.workspaceImage).toEqual({ repository: IMAGE, tag: null, digest: DIGEST });
    expect(digestOnly.provisioning.defaultImageTag).toBe(DIGEST);
    // A registry's port is no tag.
    const local = loadConfig({ HUB_AUTH: 'dev', HUB_WORKSPACE_IMAGE: 'localhost:5000/workspace' });
    expect(local.workspaceImage).toEqual({
      repository: 'localhost:5000/workspace',
      tag: null,
      digest: null,
    });
  });

  it('refuses bad values at start-up with one line naming each variable', () => {
    const message = refusal({
      ...GCE,
      HUB_DEFAULT_DISK_SIZE_GB: '5',
      HUB_MAX_WORKSPACES_PER_USER: 'many',
      HUB_SUSPENDED_LIMIT_ACTION: 'hibernate',
    });
    expect(message).toMatch(/^Invalid hub configuration:\n/);
    for (const variable of [
      'HUB_DEFAULT_DISK_SIZE_GB',
      'HUB_MAX_WORKSPACES_PER_USER',
      'HUB_SUSPENDED_LIMIT_ACTION',
    ])
      expect(message).toMatch(new RegExp(`^  ${variable}: `, 'm'));
    // Rules between variables, once each one is valid alone.
    expect(
      refusal({ ...GCE, HUB_ZONE: 'us-east1-b', HUB_ALLOWED_ZONES: 'europe-west1-b' }),
    ).toMatch(/^ {2}HUB_ZONE: must be one of HUB_ALLOWED_ZONES$/m);
  });

  it('refuses a digest that is not sha256 and 64 hex digits, in local mode too', () => {
    expect(refusal({ HUB_AUTH: 'dev', HUB_WORKSPACE_IMAGE: 'workspace:v1@sha256:abc' })).toMatch(
      /^ {2}HUB_WORKSPACE_IMAGE: its digest must be sha256: and 64 lowercase hex digits/m,
    );
  });
});
