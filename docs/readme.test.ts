import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The root README as a newcomer reads it: every package listed, every link and command real. */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('lists every npm workspace in its package table', () => {
    const { workspaces } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      workspaces: string[];
    };
    for (const folder of workspaces) expect(readme, folder).toContain(`| \`${folder}/\``);
  });

  it('has each package say how to run its tests', () => {
    const { workspaces } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      workspaces: string[];
    };
    for (const folder of workspaces) {
      const own = readFileSync(join(ROOT, folder, 'README.md'), 'utf8');
      expect(own, `${folder}/README.md`).toMatch(
        new RegExp(`npx vitest run [^\\n\`]*\\b${folder.split('/')[0]}\\b`),
      );
    }
  });

  it('names every benchmark there is', () => {
    const line = readme.split('\n').find((l) => l.includes('bench/<name>/run.ts')) ?? '';
    const benches = readdirSync(join(ROOT, 'bench'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'bench', d.name, 'run.ts')))
      .map((d) => d.name);
    for (const name of benches) expect(line, name).toContain(`\`${name}\``);
  });

  it('links only to files in the repository', () => {
    const readmes = [
      'README.md',
      ...readdirSync(ROOT, { recursive: true, encoding: 'utf8' }).filter(
        (p) => p.endsWith('README.md') && !p.includes('node_modules') && !p.includes('dist/'),
      ),
    ];
    for (const file of readmes)
      for (const [, target] of readFileSync(join(ROOT, file), 'utf8').matchAll(/\]\(([^)#\s]+)/g))
        if (!/^[a-z]+:/.test(target!))
          expect(existsSync(join(ROOT, dirname(file), target!)), `${file} → ${target}`).toBe(true);
  });
});
