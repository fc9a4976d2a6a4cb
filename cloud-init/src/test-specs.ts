import type { CloudConfigSpec } from './spec.js';

/** Specs the tests render; shared so schema, snapshot and execution tests agree. */
export const minimalSpec: CloudConfigSpec = {
  workspaceId: 'ws-abcdefgh23',
  hubUrl: 'https://hub-123456789.europe-west1.run.app',
  image: 'europe-west1-docker.pkg.dev/acme-dev/workspace-hub/workspace:2026.11.1',
};

export const fullSpec: CloudConfigSpec = {
  workspaceId: 'ws-zz2345qrst',
  hubUrl: 'http://127.0.0.1:8080',
  image:
    'us-docker.pkg.dev/acme-dev/images/team/workspace:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  agentPort: 2300,
  secretNames: ['github-token', 'npm_token'],
  projectId: 'acme-dev',
  homeMountPath: '/mnt/stateful_partition/homes/ada',
  username: 'ada',
  uid: 4242,
  secretsTmpfsMiB: 64,
};

/** Valid but odd: every shell and YAML special character a URL may legally carry. */
export function oddSpec(canaryDir: string): CloudConfigSpec {
  return {
    workspaceId: 'ws-a2b3c4d5e6',
    hubUrl:
      `https://hub.example.com/x'y"z/$(touch\${IFS}${canaryDir}/dollar)/` +
      `\`touch\${IFS}${canaryDir}/backtick\`;exit;|&>/?q=*&a=!tag#:&anchor*alias!!str%{}[],>-|`,
    image: 'asia-northeast1-docker.pkg.dev/odd-project-1/repo/img__name.v2:_tag-.x',
    secretNames: ['-rf', '--privileged', 'a_b-c'],
    username: '_odd-user',
  };
}
