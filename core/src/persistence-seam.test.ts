import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Firestore is reached through the stores of core/src/store/ only: the sweep, the routes and
// the Eventarc function call store methods that say what they read or write, so every write of
// a workspace keeps its precondition and a change of the data model changes one folder.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STORE = 'core/src/store/';
const CLIENT_IMPORT =
  /from\s+'@google-cloud\/firestore'|import\(\s*'@google-cloud\/firestore'\s*\)/;
const VALUE_IMPORT = /^import\s+(?!type\s)[^;]*from\s+'@google-cloud\/firestore'/m;
const CLIENT_CALL =
  /\.(collection|collectionGroup|runTransaction|batch|bulkWriter|getAll|recursiveDelete)\(/;

function sources(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .map((f) => relative(ROOT, join(ROOT, folder, f)));
}

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

describe('the persistence seam', () => {
  it('core reaches Firestore only in core/src/store/', () => {
    const outside = sources('core/src').filter((f) => !f.startsWith(STORE));
    expect(outside.length).toBeGreaterThan(10);
    expect(outside.filter((f) => CLIENT_IMPORT.test(read(f)) || CLIENT_CALL.test(read(f)))).toEqual(
      [],
    );
  });

  it('the hub, the Eventarc function and the local launcher make no Firestore call of their own', () => {
    // The hub holds the client only to probe readiness and close it (a type import).
    const files = ['hub/src', 'functions/src', 'local/src'].flatMap(sources);
    expect(files.filter((f) => VALUE_IMPORT.test(read(f)) || CLIENT_CALL.test(read(f)))).toEqual(
      [],
    );
  });
});
