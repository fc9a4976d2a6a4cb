#!/usr/bin/env node
/** `node probe-main.js '{"host","port","localAddress","timeoutMs"}'`, run inside a namespace: prints the outcome. */
import { probeTcp } from './probe.js';

const { timeoutMs, ...target } = JSON.parse(process.argv[2] ?? '{}') as {
  host: string;
  port: number;
  localAddress?: string;
  timeoutMs: number;
};
process.stdout.write(`${await probeTcp(target, timeoutMs)}\n`);
