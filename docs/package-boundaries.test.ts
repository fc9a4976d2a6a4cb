import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const WORKSPACES = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  .workspaces as string[];

/** A package's own code: its sources, tests aside (they may reach across the repository). */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(dir, 'src', f));
}

/**
 * Relative paths a source file names (import specifiers, `new URL(…, import.meta.url)`, paths
 * joined from its folder) that lead into another package's folder: packages find each other by
 * name. (The repository's root, e.g. its package.json, is no package's.)
 */
function pathsIntoOtherPackages(file: string, text: string, packageDir: string): string[] {
  const from = dirname(resolve(ROOT, file));
  return [...text.matchAll(/['"`](\.\.?\/[^'"`$]*)/g)]
    .map(([, path]) => path!)
    .filter((path) => {
      const target = resolve(from, path);
      return WORKSPACES.some(
        (dir) => dir !== packageDir && !relative(resolve(ROOT, dir), target).startsWith('..'),
      );
    });
}

describe('packages', () => {
  it("find one another by package name, never by a relative path into another one's folder", () => {
    const crossing = WORKSPACES.flatMap((dir) =>
      sources(dir).flatMap((file) =>
        pathsIntoOtherPackages(file, readFileSync(join(ROOT, file), 'utf8'), dir).map(
          (path) => `${file}: ${path}`,
        ),
      ),
    );
    expect(crossing).toEqual([]);
  });

  it('the check sees a path to another package', () => {
    const line = "new URL('../../vm-agent/dist/main.js', import.meta.url)";
    expect(pathsIntoOtherPackages('hub/src/wiring.ts', line, 'hub')).toEqual([
      '../../vm-agent/dist/main.js',
    ]);
    expect(pathsIntoOtherPackages('hub/src/wiring.ts', "import('./app.js')", 'hub')).toEqual([]);
    const webDist = "new URL('../../../web/dist/', import.meta.url)";
    expect(pathsIntoOtherPackages('hub/src/routes/web-page.ts', webDist, 'hub')).toEqual([
      '../../../web/dist/',
    ]);
  });

  it('each has a README and a row in the layout table of docs/ARCHITECTURE.md', () => {
    const architecture = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
    for (const dir of WORKSPACES) {
      const { name } = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
      const row = `| \`${dir}/\` | \`${name}\` |`;
      expect(architecture.includes(row), `docs/ARCHITECTURE.md has no row ${row}`).toBe(true);
      expect(readdirSync(join(ROOT, dir)), dir).toContain('README.md');
    }
  });
});
