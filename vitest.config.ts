import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import sibling packages from source, so no build is needed between edits.
    alias: [
      { find: /^@workspace-hub\/api$/, replacement: src('./api/src/index.ts') },
      { find: /^@workspace-hub\/ssh-keys$/, replacement: src('./ssh-keys/src/index.ts') },
      { find: /^@workspace-hub\/core\/settings$/, replacement: src('./core/src/settings.ts') },
      { find: /^@workspace-hub\/core$/, replacement: src('./core/src/index.ts') },
      { find: /^@workspace-hub\/testing\/vitest$/, replacement: src('./testing/src/vitest.ts') },
      { find: /^@workspace-hub\/testing$/, replacement: src('./testing/src/index.ts') },
      { find: /^@workspace-hub\/cloud-init\/spec$/, replacement: src('./cloud-init/src/spec.ts') },
      { find: /^@workspace-hub\/cloud-init$/, replacement: src('./cloud-init/src/index.ts') },
      { find: /^@workspace-hub\/hub$/, replacement: src('./hub/src/index.ts') },
      { find: /^@workspace-hub\/local$/, replacement: src('./local/src/index.ts') },
      { find: /^@workspace-hub\/client$/, replacement: src('./client/src/index.ts') },
    ],
  },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['./testing/src/vitest-global-setup.ts', './client/test/bundle-setup.mjs'],
    reporters: ['default', './testing/src/vitest-summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { METADATA_SERVER_DETECTION: 'none' },
  },
});
