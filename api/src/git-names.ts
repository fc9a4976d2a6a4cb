/** A control character (C0 or DEL): never part of a name a person typed. */
export const hasControlCharacter = (s: string): boolean =>
  [...s].some((ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x20 || code === 0x7f;
  });

/**
 * Whether git would take `name` as a branch name (`git check-ref-format
 * --branch`): no control characters, space or ~^:?*[\, no "..", "@{" or "//",
 * no component starting with "." or ending with ".lock", not "@", not starting
 * with "-" or "/", not ending with "/" or ".".
 */
export function isGitBranchName(name: string): boolean {
  if (hasControlCharacter(name) || /[\s~^:?*[\\]/.test(name)) return false;
  if (name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  if (name === '@' || /^[-/]/.test(name) || /[/.]$/.test(name)) return false;
  return name.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'));
}

/**
 * Whether a repository URL carries credentials: any user part of an http(s) URL (a token or a
 * password, as in `https://TOKEN@github.com/...`), or `user:password@` in any other URL.
 * `git@host:path` and `ssh://git@host/path` name a user, not a secret.
 */
export function carriesCredentials(repo: string): boolean {
  if (/^(https?|ftps?):\/\/[^/?#]*@/i.test(repo)) return true;
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#@]*:[^/?#@]*@/i.test(repo);
}
