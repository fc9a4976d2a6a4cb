import type { Workspace } from '@workspace-hub/api';
import { testProvisionPolicy } from '@workspace-hub/testing';
import type { Actor } from '../src/actor.js';
import { newWorkspace } from '../src/provision.js';

/** The sample workspaces' owner, as the author of a change. */
export const OWNER = {
  kind: 'user',
  sub: 'alice',
  email: 'alice@example.com',
  admin: false,
} satisfies Actor;

/** A new workspace's document as the hub writes it, with a fresh id; `over` sets what a test needs. */
export function sampleWorkspace(over: Partial<Workspace> = {}): Workspace {
  return {
    ...newWorkspace(OWNER, {}, testProvisionPolicy('p'), new Date('2026-01-01T00:00:00.000Z')),
    idle_timeout_minutes: 240,
    ...over,
  };
}
