import { describe, expect, it } from 'vitest';
import { renderCloudConfig } from './render.js';
import { CloudConfigSpecError, parseCloudConfigSpec } from './spec.js';
import { minimalSpec } from './test-specs.js';

function rejection(patch: Record<string, unknown>): CloudConfigSpecError {
  try {
    renderCloudConfig({ ...minimalSpec, ...patch } as never);
  } catch (error) {
    if (error instanceof CloudConfigSpecError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(patch)}`);
}

describe('CloudConfigSpec', () => {
  it('fills in the documented defaults', () => {
    expect(parseCloudConfigSpec(minimalSpec)).toEqual({
      ...minimalSpec,
      agentPort: 2222,
      agentSourceRanges: [],
      secretNames: [],
      homeMountPath: '/mnt/disks/home',
      username: 'dev',
      uid: 1000,
      secretsTmpfsMiB: 16,
    });
  });

  it.each([
    ['workspaceId', { workspaceId: 'ws-abc$(id)xx' }],
    ['workspaceId', { workspaceId: 'ws-ABCDEFGH23' }],
    ['workspaceId', { workspaceId: 'ws-abcdefgh23\nruncmd: [reboot]' }],
    ['hubUrl', { hubUrl: 'https://hub.example.com/\nruncmd: [reboot]' }],
    ['hubUrl', { hubUrl: 'https://hub.example.com/a b' }],
    ['hubUrl', { hubUrl: 'http://hub.example.com' }],
    ['hubUrl', { hubUrl: 'https://user:hunter2@hub.example.com' }],
    ['hubUrl', { hubUrl: 'javascript:alert(1)' }],
    ['hubUrl', { hubUrl: 'not a url' }],
    ['image', { image: 'docker.io/library/ubuntu:24.04' }],
    ['image', { image: 'us-docker.pkg.dev/acme-dev/repo/img' }],
    ['image', { image: 'us-docker.pkg.dev/acme-dev/repo/img:1;reboot' }],
    ['image', { image: "us-docker.pkg.dev/acme-dev/repo/img:1' --privileged '" }],
    ['agentPort', { agentPort: '2222; reboot' }],
    ['agentPort', { agentPort: 22 }],
    ['secretNames.1', { secretNames: ['ok', 'a b'] }],
    ['secretNames.0', { secretNames: ['x\ny'] }],
    ['secretNames.0', { secretNames: ['projects/p/secrets/s'] }],
    ['projectId', { projectId: 'Acme-Dev' }],
    ['projectId', { projectId: "acme-dev' --privileged '" }],
    ['homeMountPath', { homeMountPath: '/mnt/disks/../../etc' }],
    ['homeMountPath', { homeMountPath: '/usr/local/home' }],
    ['homeMountPath', { homeMountPath: '/mnt/disks/a,dst=/etc' }],
    ['username', { username: 'root' }],
    ['username', { username: 'a;b' }],
    ['uid', { uid: 0 }],
    ['uid', { uid: 1000.5 }],
    ['', { secretValues: { token: 'ghp_secret' } }],
  ])('rejects an invalid %s, naming the field', (field, patch) => {
    const error = rejection(patch);
    expect(error.fields).toContain(field);
    expect(error.message).toContain(field === '' ? 'secretValues' : `${field}:`);
  });

  it('names every invalid field at once', () => {
    const error = rejection({ workspaceId: 'x', hubUrl: 'ftp://h', uid: -1 });
    expect(error.fields.sort()).toEqual(['hubUrl', 'uid', 'workspaceId']);
  });
});
