import { describe, expect, it } from 'vitest';
import { imageTagOf, parseImageReference, workspaceImage } from './image-reference.js';

const REPO = 'europe-docker.pkg.dev/acme-dev-123/workspace-hub/workspace';
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('image references', () => {
  it.each([
    ['tagged', `${REPO}:v1`, { repository: REPO, tag: 'v1', digest: null }],
    ['pinned', `${REPO}@${DIGEST}`, { repository: REPO, tag: null, digest: DIGEST }],
    ['tag and digest', `${REPO}:v1@${DIGEST}`, { repository: REPO, tag: 'v1', digest: DIGEST }],
    [
      'a registry port',
      'localhost:5000/workspace:v1',
      { repository: 'localhost:5000/workspace', tag: 'v1', digest: null },
    ],
    [
      'a registry port and no tag',
      'localhost:5000/workspace',
      { repository: 'localhost:5000/workspace', tag: null, digest: null },
    ],
  ])('splits a %s reference into its parts', (_, reference, parts) => {
    expect(parseImageReference(reference)).toEqual(parts);
  });

  it.each([
    ['tagged', `${REPO}:v1`, 'v1'],
    ['pinned', `${REPO}@${DIGEST}`, DIGEST],
    ['tag and digest', `${REPO}:v1@${DIGEST}`, `v1@${DIGEST}`],
  ])('gives back the same %s reference through the stored image_tag', (_, reference, tag) => {
    const parsed = parseImageReference(reference);
    expect(imageTagOf(parsed)).toBe(tag);
    expect(workspaceImage(parsed.repository, imageTagOf(parsed))).toBe(reference);
  });

  it('reads a document stored before digests were kept (a plain tag) as before', () => {
    expect(workspaceImage(REPO, 'latest')).toBe(`${REPO}:latest`);
  });
});
