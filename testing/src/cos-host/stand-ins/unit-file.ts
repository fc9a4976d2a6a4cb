import { existsSync, readFileSync } from 'node:fs';

export const UNIT_DIR = '/etc/systemd/system';

export interface Unit {
  name: string;
  requires: string[];
  wants: string[];
  type: string;
  execStart: string[];
}

/**
 * Reads a unit file the user-data wrote; null for a unit COS itself provides
 * (docker.service, network-online.target), which this host takes as running.
 * ExecStart is split on whitespace: our units quote nothing.
 */
export function readUnit(name: string): Unit | null {
  const path = `${UNIT_DIR}/${name}`;
  if (!existsSync(path)) return null;
  const values = new Map<string, string[]>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, key = '', value = ''] = match;
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  const words = (key: string) =>
    (values.get(key) ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
  const execStart = words('ExecStart');
  if (execStart.length === 0) throw new Error(`${name} has no ExecStart`);
  return {
    name,
    requires: words('Requires'),
    wants: words('Wants'),
    type: values.get('Type')?.at(-1) ?? 'simple',
    execStart,
  };
}
