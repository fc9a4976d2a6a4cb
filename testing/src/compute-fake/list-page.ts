import { ApiError } from './model.js';

/**
 * What GCE's list calls and partial responses take beyond the call itself:
 * `maxResults`/`pageToken` paging and the `fields` selection every Google
 * JSON API honours. Checked as GCE checks them (400s naming the parameter).
 */

/** Fields of a Compute `Instance` a selection may name (a fake's subset of the schema). */
const INSTANCE_FIELDS = new Set([
  'kind',
  'id',
  'name',
  'description',
  'zone',
  'status',
  'statusMessage',
  'labels',
  'labelFingerprint',
  'creationTimestamp',
  'lastStartTimestamp',
  'lastStopTimestamp',
  'lastSuspendedTimestamp',
  'machineType',
  'disks',
  'networkInterfaces',
  'metadata',
  'tags',
  'scheduling',
  'serviceAccounts',
  'shieldedInstanceConfig',
  'guestAccelerators',
  'cpuPlatform',
  'fingerprint',
  'selfLink',
]);
const LIST_FIELDS = new Set(['kind', 'id', 'items', 'nextPageToken', 'selfLink', 'warning']);

/** A parsed `fields` value: each named field, with its own selection or `true` for all of it. */
type Selection = Map<string, Selection | true>;

/**
 * Parses `a,b/c,d(e,f)` (Google's partial-response syntax); names are
 * checked against what an instance list has, as GCE refuses unknown ones.
 */
export function parseInstanceListFields(fields: string): Selection {
  let at = 0;
  const fail = (): never => {
    throw new ApiError(400, 'invalidParameter', `Invalid field selection ${fields}`);
  };
  const name = () => {
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^\*/.exec(fields.slice(at));
    if (!m) fail();
    at += m![0].length;
    return m![0];
  };
  const list = (into: Selection, known: (path: string[]) => boolean, path: string[]) => {
    for (;;) {
      item(into, known, path);
      if (fields[at] !== ',') return;
      at++;
    }
  };
  const item = (into: Selection, known: (path: string[]) => boolean, path: string[]) => {
    const key = name();
    if (!known([...path, key]))
      throw new ApiError(400, 'invalidParameter', `Invalid field selection ${key}`);
    if (fields[at] === '/' || fields[at] === '(') {
      const open = fields[at] === '(';
      at++;
      const prev = into.get(key);
      const sub: Selection = prev instanceof Map ? prev : new Map();
      if (prev !== true) into.set(key, sub);
      if (open) {
        list(sub, known, [...path, key]);
        if (fields[at] !== ')') fail();
        at++;
      } else item(sub, known, [...path, key]);
    } else into.set(key, true);
  };
  // Only the top level and `items/…` are checked: deeper names are an instance's own business.
  const known = (path: string[]) =>
    path[path.length - 1] === '*' ||
    (path.length === 1
      ? LIST_FIELDS.has(path[0]!)
      : path[0] !== 'items' || path.length > 2 || INSTANCE_FIELDS.has(path[1]!));
  const top: Selection = new Map();
  if (!fields) fail();
  list(top, known, []);
  if (at !== fields.length) fail();
  return top;
}

/** `value` with only the selected fields; a selection applies to each element of an array. */
export function selectFields(value: unknown, selection: Selection): unknown {
  if (Array.isArray(value)) return value.map((v) => selectFields(v, selection));
  if (value === null || typeof value !== 'object') return value;
  if (selection.has('*')) return value;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of selection) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sub === true ? v : selectFields(v, sub);
  }
  return out;
}

/**
 * One page of `items` (sorted by name, as a stable order) after `pageToken`,
 * at most `maxResults` (GCE: 0–500, default 500) and at most `limit` (a fake
 * may return fewer, as GCE may).
 */
export function listPage<T extends { name: string }>(
  items: T[],
  params: URLSearchParams,
  limit: number,
): { items: T[]; nextPageToken?: string } {
  const raw = params.get('maxResults');
  const max = raw === null ? 500 : Number(raw);
  if (!Number.isInteger(max) || max < 0 || max > 500 || (raw !== null && !/^\d+$/.test(raw)))
    throw new ApiError(
      400,
      'invalid',
      `Invalid value for field 'maxResults': '${raw}'. Must be an integer between 0 and 500.`,
    );
  const token = params.get('pageToken');
  let after = '';
  if (token !== null) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!decoded.startsWith('after:'))
      throw new ApiError(400, 'invalid', `Invalid value for field 'pageToken': '${token}'.`);
    after = decoded.slice('after:'.length);
  }
  const sorted = [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rest = sorted.filter((i) => i.name > after);
  const page = rest.slice(0, Math.min(max === 0 ? 500 : max, limit));
  return rest.length > page.length && page.length
    ? {
        items: page,
        nextPageToken: Buffer.from(`after:${page.at(-1)!.name}`).toString('base64url'),
      }
    : { items: page };
}
