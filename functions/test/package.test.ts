import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));

describe('npm run package (the zip Terraform deploys)', () => {
  it('bundles our packages and lists only published dependencies', () => {
    execFileSync(process.execPath, ['scripts/package.mjs'], { cwd: dir, stdio: 'pipe' });
    const pkg = JSON.parse(readFileSync(`${dir}/deploy/package.json`, 'utf8'));
    expect(Object.keys(pkg.dependencies).sort()).toEqual(
      [
        '@google-cloud/compute',
        '@google-cloud/firestore',
        '@google-cloud/functions-framework',
        'google-auth-library',
      ].sort(),
    );
    const bundle = readFileSync(`${dir}/deploy/index.js`, 'utf8');
    expect(bundle).not.toMatch(/from ["']@workspace-hub\//);
    expect(bundle).toContain('reconcileFromAuditLog');
    // Compute stays a lazy import in the bundle too: cold starts don't pay for it.
    expect(bundle).toMatch(/import\(["']@google-cloud\/compute["']\)/);
  });
});
