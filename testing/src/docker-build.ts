import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// The package is CommonJS (`module.exports = factory`) while its types declare a default export.
const dockerignore = createRequire(import.meta.url)(
  '@balena/dockerignore',
) as typeof import('@balena/dockerignore').default;

export interface DockerInstruction {
  op: string;
  args: string;
}
export interface DockerStage {
  from: string;
  name?: string;
  instructions: DockerInstruction[];
}

/** A Dockerfile's stages and their instructions (continuations joined, comments dropped). */
export function dockerfileStages(text: string): DockerStage[] {
  const logical = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: DockerStage[] = [];
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [, from = '', name] =
        /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** COPY's sources and destination; `from` is the stage it copies from, if any. */
export function copyArguments(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((w) => !w.startsWith('--'));
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

/**
 * The files `docker build` would send from `root`, as Docker filters them by
 * its .dockerignore (@balena/dockerignore implements Docker's own matcher).
 * A directory that is ignored, and that no `!` pattern reaches into, is not
 * walked: Docker's walker skips it the same way.
 */
export function buildContextFiles(root: string): string[] {
  const patterns = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const ignore = dockerignore().add(patterns);
  const negations = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (path === '.git') continue;
      if (entry.isDirectory()) {
        const reopened = negations.some((n) => n.startsWith(`${path}/`));
        if (!ignore.ignores(path) || reopened) walk(path);
      } else if (!ignore.ignores(path)) files.push(path);
    }
  };
  walk('');
  return files;
}
