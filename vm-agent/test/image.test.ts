import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCloudConfig } from '@workspace-hub/cloud-init';
import { copyArguments, dockerfileStages } from '@workspace-hub/testing';
import { describe, expect, it } from 'vitest';

const dockerfile = readFileSync(fileURLToPath(new URL('../Dockerfile', import.meta.url)), 'utf8');
const final = dockerfileStages(dockerfile).at(-1)!;
const spec = {
  workspaceId: 'ws-abcdefgh23',
  hubUrl: 'https://hub-123456789.europe-west1.run.app',
  image: 'europe-west1-docker.pkg.dev/acme-dev/workspace-hub/workspace:v1',
};

describe('the workspace image', () => {
  it('runs under exactly one init: the one `docker run --init` on the VM adds', () => {
    const vmRunsInit = renderCloudConfig(spec).includes("'--init'");
    const entrypoint = final.instructions.find((i) => i.op === 'ENTRYPOINT')?.args ?? '';
    const imageInits = [/tini/, /dumb-init/, /--init/].filter(
      (init) => init.test(entrypoint) || final.instructions.some((i) => init.test(i.args)),
    );
    expect(vmRunsInit).toBe(true);
    expect(imageInits).toEqual([]);
  });

  it('holds only the agent (package.json, production node_modules, dist) from the build', () => {
    const fromBuild = final.instructions
      .filter((i) => i.op === 'COPY')
      .map((i) => copyArguments(i.args))
      .filter((c) => c.from === 'build')
      .flatMap((c) => c.sources);
    expect(fromBuild.sort()).toEqual(
      ['package.json', 'node_modules', 'dist'].map((p) => `/opt/vm-agent/${p}`).sort(),
    );
    const build = dockerfileStages(dockerfile)[0]!;
    expect(build.instructions.map((i) => i.args).join('\n')).toMatch(/npm prune --omit=dev/);
  });
});
