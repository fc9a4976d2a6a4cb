import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizeModule } from './synthesize.js';

type Block = Record<string, unknown>;
let resources: Record<string, Record<string, Block>>;
let requiredProviders: Record<string, { source: string }>;

beforeAll(() => {
  const files = synthesizeModule();
  resources = JSON.parse(files['main.tf.json']!).resource;
  requiredProviders = JSON.parse(files['versions.tf.json']!).terraform.required_providers;
});

const addresses = () =>
  Object.entries(resources).flatMap(([type, byName]) =>
    Object.keys(byName).map((name) => `${type}.${name}`),
  );
const blockAt = (address: string): Block => {
  const [type, name] = address.split('.') as [string, string];
  return resources[type]![name]!;
};

/** What Terraform orders before a resource: its depends_on and every resource its expressions name. */
function directDependencies(address: string): string[] {
  const { depends_on: dependsOn = [], ...rest } = blockAt(address);
  const text = JSON.stringify(rest);
  const referenced = [...text.matchAll(/\$\{[^}]*/g)].flatMap(([expression]) =>
    addresses().filter((candidate) => expression.includes(`${candidate}.`)),
  );
  return [...(dependsOn as string[]), ...referenced];
}

function before(address: string): Set<string> {
  const seen = new Set<string>();
  const stack = [address];
  while (stack.length > 0) {
    for (const dependency of directDependencies(stack.pop()!)) {
      if (seen.has(dependency)) continue;
      seen.add(dependency);
      stack.push(dependency);
    }
  }
  return seen;
}

const grantsOf = (role: string) =>
  Object.entries(resources.google_project_iam_member ?? {})
    .filter(([, grant]) => grant.role === role)
    .map(([name, grant]) => ({ address: `google_project_iam_member.${name}`, grant }));

describe('one terraform apply on a fresh project', () => {
  it('depends only on resources the module defines', () => {
    const known = new Set(addresses());
    for (const address of known)
      for (const dependency of (blockAt(address).depends_on ?? []) as string[])
        expect(known, `${address} depends on ${dependency}`).toContain(dependency);
  });

  it('creates every Eventarc trigger after the Eventarc agent, its receiver grant and their propagation', () => {
    const triggers = Object.keys(resources.google_eventarc_trigger ?? {});
    expect(triggers.length).toBeGreaterThan(0);
    const agents = Object.entries(resources.google_project_service_identity ?? {}).filter(
      ([, identity]) => identity.service === 'eventarc.googleapis.com',
    );
    expect(agents).toHaveLength(1);
    const agent = `google_project_service_identity.${agents[0]![0]}`;
    const agentGrant = grantsOf('roles/eventarc.serviceAgent').find(({ address }) =>
      before(address).has(agent),
    );
    expect(agentGrant, 'the Eventarc agent is granted its role').toBeDefined();
    const sleeps = Object.entries(resources.time_sleep ?? {});

    for (const name of triggers) {
      const address = `google_eventarc_trigger.${name}`;
      const trigger = blockAt(address);
      const account = (trigger.service_account as string).replace(/\.email\}$/, '.member}');
      const receiverGrant = grantsOf('roles/eventarc.eventReceiver').find(
        ({ grant }) => grant.member === account,
      );
      expect(receiverGrant, `${name}'s account may receive events`).toBeDefined();
      const waits = before(address);
      for (const needed of [
        agent,
        agentGrant!.address,
        receiverGrant!.address,
        'google_project_service.api_eventarc',
        'google_project_service.api_pubsub',
      ])
        expect(waits, `${name} waits for ${needed}`).toContain(needed);
      // The grants exist before the trigger, and a wait for their propagation lies in between.
      const wait = sleeps.find(
        ([sleepName]) =>
          waits.has(`time_sleep.${sleepName}`) &&
          before(`time_sleep.${sleepName}`).has(receiverGrant!.address) &&
          before(`time_sleep.${sleepName}`).has(agentGrant!.address),
      );
      expect(wait, `${name} waits for IAM propagation after the grants`).toBeDefined();
      expect(wait![1].create_duration).toMatch(/^\d+s$/);
    }
  });

  it('declares the provider of every resource it uses', () => {
    for (const address of addresses()) {
      const [type] = address.split('.') as [string];
      const provider = (blockAt(address).provider as string | undefined) ?? type.split('_')[0]!;
      expect(requiredProviders, `${address} uses ${provider}`).toHaveProperty(provider);
      expect(requiredProviders[provider]!.source).toBe(`hashicorp/${provider}`);
    }
  });
});
