import { isWorkspaceName } from '@workspace-hub/api';
import { describe, expect, it } from 'vitest';
import { baseNameFromRepo, nameCandidates } from './names.js';

describe('baseNameFromRepo', () => {
  it('takes the repository’s last path segment as a DNS label', () => {
    expect(baseNameFromRepo('github.com/acme/my-app.git')).toBe('my-app');
    expect(baseNameFromRepo('https://github.com/acme/My_App.git/')).toBe('my-app');
    expect(baseNameFromRepo('git@github.com:acme/tool.GIT')).toBe('tool');
    expect(baseNameFromRepo('ssh://git@host:22/team/Über  Tool')).toBe('ber-tool');
    expect(baseNameFromRepo('/srv/git/2fa')).toBe('repo-2fa');
  });

  it('falls back to `workspace` without a usable repository', () => {
    for (const repo of [null, undefined, '', '   ', '___.git', 'https://'])
      expect(baseNameFromRepo(repo)).toBe('workspace');
  });

  it('leaves room for the suffix that makes it unique', () => {
    const long = baseNameFromRepo(`https://example.com/${'a'.repeat(40)}-${'b'.repeat(40)}`);
    expect(long.length).toBeLessThanOrEqual(59);
    expect(isWorkspaceName(`${long}-999`)).toBe(true);
  });
});

describe('nameCandidates', () => {
  it('tries base, base-2, … and never a name shaped like an id', () => {
    expect(nameCandidates('app', 1, 3)).toEqual(['app', 'app-2', 'app-3']);
    expect(nameCandidates('app', 11, 2)).toEqual(['app-11', 'app-12']);
    expect(nameCandidates('ws-abcdefgh23', 1, 2)).toEqual(['ws-abcdefgh23-2']);
  });
});
