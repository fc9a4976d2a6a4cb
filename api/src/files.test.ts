import { describe, expect, it } from 'vitest';
import { FilePath, parseContentRange } from './files.js';

describe('file paths', () => {
  it('normalises a relative path and refuses what would leave the home', () => {
    expect(FilePath.parse('a//./b/')).toBe('a/b');
    expect(FilePath.parse('')).toBe('');
    expect(FilePath.parse('.')).toBe('');
    expect(FilePath.parse('..a/b..')).toBe('..a/b..');
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'a/..', 'a\0b'])
      expect(FilePath.safeParse(bad).success, bad).toBe(false);
  });
});

describe('Content-Range of an upload chunk', () => {
  it('reads bytes FIRST-LAST/TOTAL and refuses ranges that do not fit', () => {
    expect(parseContentRange('bytes 0-9/20')).toEqual({ first: 0, last: 9, total: 20 });
    for (const bad of [
      'bytes 10-9/20',
      'bytes 0-20/20',
      'bytes 0-9/*',
      'items 0-9/20',
      'bytes=0-9',
    ])
      expect(parseContentRange(bad), bad).toBeNull();
  });
});
