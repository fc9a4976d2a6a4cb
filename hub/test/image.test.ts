import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { buildContextFiles, copyArguments, dockerfileStages } from '@workspace-hub/testing';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');
const manifest = (dir: string) =>
  JSON.parse(read(`${dir}/package.json`)) as {
    name: string;
    dependencies?: Record<string, string>;
  };

/** Workspace folders by package name (from the root manifest). */
const workspaces = new Map<string, string>(
  (JSON.parse(read('package.json')).workspaces as string[]).map((dir) => [manifest(dir).name, dir]),
);

/** The workspaces `hub` needs at run time: its production dependencies, transitively. */
function runtimeWorkspaces(start: string): Set<string> {
  const seen = new Set<string>([start]);
  const stack = [start];
  while (stack.length > 0) {
    for (const name of Object.keys(manifest(stack.pop()!).dependencies ?? {})) {
      const dir = workspaces.get(name);
      if (dir && !seen.has(dir)) seen.add(dir) && stack.push(dir);
    }
  }
  return seen;
}

/** Registry packages the lockfile installs for these workspaces' production dependencies. */
function runtimePackages(dirs: Set<string>): Set<string> {
  const lock = JSON.parse(read('package-lock.json')).packages as Record<
    string,
    { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }
  >;
  const found = new Set<string>();
  const resolve = (from: string, name: string) => {
    // Node's lookup: the nearest node_modules up from the requiring package, then the root's.
    let dir = from;
    while (dir) {
      if (lock[`${dir}/node_modules/${name}`]) return `${dir}/node_modules/${name}`;
      const parent = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '');
      dir = parent === dir ? '' : parent;
    }
    return lock[`node_modules/${name}`] ? `node_modules/${name}` : undefined;
  };
  const visit = (from: string, deps: Record<string, string> = {}) => {
    for (const name of Object.keys(deps)) {
      if (workspaces.has(name)) continue;
      const key = resolve(from, name);
      if (!key || found.has(key)) continue;
      found.add(key);
      visit(key, { ...lock[key]!.dependencies, ...lock[key]!.optionalDependencies });
    }
  };
  for (const dir of dirs) visit(dir, manifest(dir).dependencies);
  return new Set([...found].map((key) => key.replace(/^.*node_modules\//, '')));
}

describe('the hub image', () => {
  let build: ReturnType<typeof dockerfileStages>[number];
  let final: ReturnType<typeof dockerfileStages>[number];
  beforeAll(() => {
    const stages = dockerfileStages(read('hub/Dockerfile'));
    build = stages[0]!;
    final = stages.at(-1)!;
  });

  it('installs only the workspaces the hub runs, so npm links no testing and installs none of its test tools', () => {
    const needed = runtimeWorkspaces('hub');
    expect([...needed].sort()).toEqual(['api', 'cloud-init', 'core', 'hub', 'ssh-keys', 'web']);
    // ws is the hub's own now (the browser terminal's WebSocket); what only tests use must stay out.
    const packages = runtimePackages(needed);
    for (const testOnly of ['vitest', 'playwright-core', '@balena/dockerignore']) {
      expect(packages).not.toContain(testOnly);
    }
    const copies = final.instructions
      .filter((i) => i.op === 'COPY')
      .map((i) => copyArguments(i.args));
    const manifests = copies
      .filter((c) => !c.from)
      .flatMap((c) => c.sources)
      .filter((source) => source.endsWith('/package.json'))
      .map((source) => source.replace(/\/package\.json$/, ''));
    expect(manifests.sort()).toEqual([...needed].sort());
    const install = final.instructions.find((i) => i.op === 'RUN' && i.args.includes('npm ci'));
    expect(install?.args).toMatch(/--omit=dev/);
    const fromBuild = copies.filter((c) => c.from === 'build').flatMap((c) => c.sources);
    // web's dist/ is the page the hub serves at /: static files, its packages bundled into them.
    expect(fromBuild.sort()).toEqual([...needed].map((dir) => `/src/${dir}/dist`).sort());
    expect(runtimePackages(new Set(['web']))).toEqual(new Set());
  });

  it('bundles the web page in the build stage and ships it beside hub/dist', () => {
    const runs = build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => r.includes('npm run build -w @workspace-hub/web'))).toBe(true);
    const shipped = final.instructions
      .filter((i) => i.op === 'COPY')
      .map((i) => copyArguments(i.args))
      .find((c) => c.sources.includes('/src/web/dist'));
    expect(shipped?.dest.replace(/\/$/, '')).toBe('web/dist');
  });

  it('ships no compiled module that imports a package the image does not install', () => {
    const shipped = runtimeWorkspaces('hub');
    const installed = new Set([
      ...runtimePackages(shipped),
      ...[...shipped].map((dir) => manifest(dir).name),
    ]);
    const missing: string[] = [];
    // web ships esbuild's bundle of its sources, whose imports are inside it.
    for (const dir of [...shipped].filter((d) => d !== 'web')) {
      for (const file of buildContextFiles(root).filter(
        (f) => f.startsWith(`${dir}/src/`) && f.endsWith('.ts') && !f.endsWith('.test.ts'),
      )) {
        for (const [, specifier] of read(file).matchAll(
          /^import(?! type)[^'"]*['"]([^'"./][^'"]*)['"]/gm,
        )) {
          const name = specifier!.startsWith('@')
            ? specifier!.split('/').slice(0, 2).join('/')
            : specifier!.split('/')[0]!;
          if (name.startsWith('node:') || builtinModules.includes(name)) continue;
          if (!installed.has(name)) missing.push(`${file} imports ${specifier}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('the build context (.dockerignore)', () => {
  let context: string[];
  beforeAll(() => {
    context = buildContextFiles(root);
  });

  it('sends no node_modules, build output or tsbuildinfo', () => {
    expect(context.filter((f) => /(^|\/)(node_modules|dist)\//.test(f))).toEqual([]);
    expect(context.filter((f) => f.endsWith('.tsbuildinfo'))).toEqual([]);
  });

  it('holds every file and folder the Dockerfiles copy', () => {
    for (const dockerfile of ['hub/Dockerfile', 'vm-agent/Dockerfile']) {
      const copies = dockerfileStages(read(dockerfile))
        .flatMap((stage) => stage.instructions)
        .filter((i) => i.op === 'COPY')
        .map((i) => copyArguments(i.args))
        .filter((c) => !c.from);
      for (const source of copies.flatMap((c) => c.sources))
        expect(
          context.some((f) => f === source || f.startsWith(`${source.replace(/\/$/, '')}/`)),
          `${dockerfile} copies ${source}`,
        ).toBe(true);
    }
  });
});
