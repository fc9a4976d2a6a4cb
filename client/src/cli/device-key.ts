import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

export interface DeviceKey {
  privateKeyPath: string;
  publicKey: string;
}

/** This device's ed25519 key in the config dir, generated with `ssh-keygen` the first time. */
export function deviceKey(ctx: Pick<CliContext, 'config' | 'deviceId'>): DeviceKey {
  const privateKeyPath = ctx.config.path('id_ed25519');
  if (!existsSync(privateKeyPath)) {
    try {
      execFileSync(
        'ssh-keygen',
        ['-q', '-t', 'ed25519', '-N', '', '-C', `wsh ${ctx.deviceId}`, '-f', privateKeyPath],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (err) {
      throw new CliError(`ssh-keygen failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  chmodSync(`${privateKeyPath}.pub`, 0o600);
  const publicKey = readFileSync(`${privateKeyPath}.pub`, 'utf8').trim();
  return { privateKeyPath, publicKey };
}

function sameKey(a: string, b: string): boolean {
  return a.split(/\s+/).slice(0, 2).join(' ') === b.split(/\s+/).slice(0, 2).join(' ');
}

/** Registers the device key as `/me/keys/<device-id>` unless the hub already has it. */
export async function ensureDeviceKeyRegistered(
  ctx: CliContext,
): Promise<DeviceKey & { fingerprint: string; registered: boolean }> {
  const key = deviceKey(ctx);
  const current = await ctx.client.getKey(ctx.deviceId);
  if (current && sameKey(current.public_key, key.publicKey))
    return { ...key, fingerprint: current.fingerprint, registered: false };
  const put = await ctx.client.putKey(ctx.deviceId, key.publicKey);
  return { ...key, fingerprint: put.fingerprint, registered: true };
}
