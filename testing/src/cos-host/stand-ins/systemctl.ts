#!/usr/bin/env node
/**
 * `systemctl` on a host without systemd: `daemon-reload` (nothing to reload),
 * `start UNIT…` (Requires= and Wants= first; a failed Requires= fails the unit,
 * as systemd's dependency job does; `Type=oneshot` runs to completion, any
 * other type is left running in the background) and `stop UNIT`. Each unit's
 * output goes to `$COS_HOST_JOURNAL/<unit>.log`. Restart= is not carried out.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { readUnit } from './unit-file.js';

const STATE_DIR = '/run/cos-host-systemd';
const journal = process.env.COS_HOST_JOURNAL ?? '/run/cos-host-journal';
const active = (unit: string) => existsSync(`${STATE_DIR}/${unit}.active`);

function start(name: string): void {
  if (active(name)) return;
  const unit = readUnit(name);
  if (unit) {
    for (const dep of unit.requires) {
      try {
        start(dep);
      } catch (err) {
        throw new Error(`A dependency job for ${name} failed: ${(err as Error).message}`);
      }
    }
    for (const dep of unit.wants) {
      try {
        start(dep);
      } catch {
        // Wants= does not fail the unit.
      }
    }
    mkdirSync(journal, { recursive: true });
    const log = openSync(`${journal}/${name}.log`, 'a');
    const [command = '', ...args] = unit.execStart;
    if (unit.type === 'oneshot') {
      const result = spawnSync(command, args, { stdio: ['ignore', log, log], timeout: 120_000 });
      if (result.status !== 0) throw new Error(`${name} exited ${result.status ?? result.signal}`);
    } else {
      const child = spawn(command, args, { stdio: ['ignore', log, log], detached: false });
      child.unref();
      mkdirSync(STATE_DIR, { recursive: true });
      writeFileSync(`${STATE_DIR}/${name}.pid`, String(child.pid));
    }
  }
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(`${STATE_DIR}/${name}.active`, '');
}

const [verb, ...units] = process.argv.slice(2);
try {
  if (verb === 'daemon-reload') process.exit(0);
  if (verb === 'start') for (const unit of units) start(unit);
  else if (verb === 'stop')
    for (const unit of units) {
      const pidFile = `${STATE_DIR}/${unit}.pid`;
      if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    }
  else throw new Error(`systemctl stand-in: ${verb} is not carried out`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
