#!/usr/bin/env node
/**
 * `node bridge-main.js '<BridgeSpec[] as JSON>'`, run inside a namespace:
 * prints `ready` once every bridge listens, and exits when its stdin closes
 * (the test process that started it went away).
 */
import { type BridgeSpec, startBridge } from './bridge.js';

const specs = JSON.parse(process.argv[2] ?? '[]') as BridgeSpec[];
await Promise.all(specs.map((spec) => startBridge(spec)));
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
