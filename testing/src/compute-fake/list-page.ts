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
  const refuse = (what = fields): never => {
    throw new ApiError(400, 'invalidParameter', `Invalid field selection ${what}`);
  };
  // Only the top level and `items/…` are checked: deeper names are an instance's own business.
  const known = (path: string[], key: string) =>
    key === '*' ||
    (path.length === 0
      ? LIST_FIELDS.has(key)
      : path.length > 1 || path[0] !== 'items' || INSTANCE_FIELDS.has(key));
  const list = (into: Selection, path: string[]) => {
    item(into, path);
    while (fields[at] === ',') {
      at++;
      item(into, path);
    }
  };
  const item = (into: Selection, path: string[]) => {
    const key = /^(?:[A-Za-z_]\w*|\*)/.exec(fields.slice(at))?.[0] ?? refuse();
    at += key.length;
    if (!known(path, key)) refuse(key);
    const next = fields[at];
    if (next !== '/' && next !== '(') return void into.set(key, true);
    at++;
    const prev = into.get(key);
    const sub: Selection = prev instanceof Map ? prev : new Map();
    if (prev !== true) into.set(key, sub);
    if (next === '/') return item(sub, [...path, key]);
    list(sub, [...path, key]);
    if (fields[at++] !== ')') refuse();
  };
  const top: Selection = new Map();
  list(top, []);
  if (at !== fields.length) refuse();
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
  if ((raw !== null && !/^\d+$/.test(raw)) || max > 500)
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
