import { randomBytes } from 'node:crypto';
import { COS_DEFAULT_IPTABLES } from './firewall.js';
import { run } from './run.js';

/** Addresses inside the test's own namespaces; nothing here is routed anywhere else. */
export const VM_ADDRESS = '10.128.0.2';
const GATEWAY_ADDRESS = '10.128.0.1';
/** A source inside IAP TCP forwarding's range (35.235.240.0/20). */
export const IAP_SOURCE = '35.235.240.10';
/** A source outside it (TEST-NET-2): what any other client on the network would be. */
export const OUTSIDE_SOURCE = '198.51.100.7';
/** The link-local address of GCE's metadata server. */
export const METADATA_ADDRESS = '169.254.169.254';

/**
 * Two network namespaces joined by a veth pair: `vm` (the COS-like host, its
 * firewall as COS boots with it) and `relay` (the network in front of it,
 * holding an IAP source address and an outside one).
 */
export interface HostNetwork {
  vm: string;
  relay: string;
  /** `ip netns exec <ns>`: the argv prefix that runs a command inside a namespace. */
  exec(ns: string, command: string[]): string[];
  /** `iptables -S` of the VM's filter table. */
  vmRules(): Promise<string>;
  close(): Promise<void>;
}

/** Throws at once, with what is missing, where network namespaces or iptables are unavailable. */
export async function createHostNetwork(): Promise<HostNetwork> {
  const id = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
  const vm = `wshcos-${id}-vm`;
  const relay = `wshcos-${id}-relay`;
  const created: string[] = [];
  const close = async () => {
    for (const ns of created.splice(0).reverse()) await run('ip', ['netns', 'del', ns]);
  };
  try {
    for (const ns of [vm, relay]) {
      await run('ip', ['netns', 'add', ns]);
      created.push(ns);
    }
    const vmLink = `wc${id.slice(-6)}v`;
    const relayLink = `wc${id.slice(-6)}r`;
    await run('ip', [
      'link',
      'add',
      vmLink,
      'netns',
      vm,
      'type',
      'veth',
      'peer',
      'name',
      relayLink,
      'netns',
      relay,
    ]);
    const inVm = (...args: string[]) => run('ip', ['-n', vm, ...args]);
    const inRelay = (...args: string[]) => run('ip', ['-n', relay, ...args]);
    await inVm('link', 'set', vmLink, 'name', 'eth0');
    await inVm('addr', 'add', `${VM_ADDRESS}/24`, 'dev', 'eth0');
    await inVm('addr', 'add', `${METADATA_ADDRESS}/32`, 'dev', 'lo');
    await inVm('link', 'set', 'lo', 'up');
    await inVm('link', 'set', 'eth0', 'up');
    await inVm('route', 'add', 'default', 'via', GATEWAY_ADDRESS);
    await inRelay('addr', 'add', `${GATEWAY_ADDRESS}/24`, 'dev', relayLink);
    for (const source of [IAP_SOURCE, OUTSIDE_SOURCE])
      await inRelay('addr', 'add', `${source}/32`, 'dev', relayLink);
    await inRelay('link', 'set', 'lo', 'up');
    await inRelay('link', 'set', relayLink, 'up');
    await run('ip', ['netns', 'exec', vm, 'iptables-restore'], { input: COS_DEFAULT_IPTABLES });
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  const exec = (ns: string, command: string[]) => ['ip', 'netns', 'exec', ns, ...command];
  return {
    vm,
    relay,
    exec,
    vmRules: () => run('ip', ['netns', 'exec', vm, 'iptables', '-w', '-S']),
    close,
  };
}
