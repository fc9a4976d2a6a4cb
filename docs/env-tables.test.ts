import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ARCHITECTURE_MD, rewriteEnvTables } from './env-tables.js';

describe('docs/ARCHITECTURE.md', () => {
  it('shows every environment variable the hub, the agent and the client read, as their schemas describe them', () => {
    const document = readFileSync(ARCHITECTURE_MD, 'utf8');
    expect(
      document,
      'the environment tables differ from the config schemas: run `npm run docs` and commit docs/ARCHITECTURE.md',
    ).toBe(rewriteEnvTables(document));
  });
});
