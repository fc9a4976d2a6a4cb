import { isWorkspaceName, WORKSPACE_NAME_MAX } from '@workspace-hub/api';

/** What a workspace without a repository is called (then `workspace-2`, …). */
export const DEFAULT_WORKSPACE_NAME = 'workspace';
/** Room kept after a derived name for the `-N` that makes it unique. */
const SUFFIX_ROOM = 4;

/**
 * The name a workspace gets from its repository when its owner gives none:
 * the repository's last path segment without `.git`, as a DNS label
 * (`github.com/acme/My_App.git` → `my-app`). Not yet unique: see nameCandidates.
 */
export function baseNameFromRepo(repo: string | null | undefined): string {
  const segment =
    (repo ?? '')
      .trim()
      .replace(/[/\\]+$/, '')
      .replace(/\.git$/i, '')
      .split(/[/\\:]/)
      .at(-1) ?? '';
  let name = segment
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  // A DNS label starts with a letter: `2fa` becomes `repo-2fa`.
  if (/^[0-9]/.test(name)) name = `repo-${name}`;
  name = name.slice(0, WORKSPACE_NAME_MAX - SUFFIX_ROOM).replace(/-+$/, '');
  return isWorkspaceName(name) ? name : DEFAULT_WORKSPACE_NAME;
}

/**
 * The names tried, in order, to make `base` unique: `base`, `base-2`, `base-3`, …
 * (`from` and `count` page through them), skipping any shaped like an id.
 */
export function nameCandidates(base: string, from: number, count: number): string[] {
  const out: string[] = [];
  for (let n = from; n < from + count; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (isWorkspaceName(name)) out.push(name);
  }
  return out;
}
