import { WORKSPACE_STATUSES } from '@workspace-hub/api';
import { describe, expect, it } from 'vitest';
import { planTransition } from './lifecycle.js';

describe('planTransition', () => {
  it('suspends only a READY workspace and treats repeats as no-ops', () => {
    expect(planTransition('READY', 'stop')).toEqual({
      kind: 'claim',
      next: 'SUSPENDING',
      call: 'suspend',
    });
    expect(planTransition('SUSPENDING', 'stop')).toEqual({ kind: 'noop' });
    expect(planTransition('SUSPENDED', 'stop')).toEqual({ kind: 'noop' });
    expect(planTransition('PROVISIONING', 'stop').kind).toBe('forbidden');
  });

  it('resumes SUSPENDED and recovers ERROR; running ones are already started', () => {
    expect(planTransition('SUSPENDED', 'start')).toEqual({
      kind: 'claim',
      next: 'RESUMING',
      call: 'resume',
    });
    expect(planTransition('ERROR', 'start')).toEqual({
      kind: 'claim',
      next: 'RESUMING',
      call: 'resume',
    });
    for (const s of ['READY', 'RESUMING', 'PROVISIONING'] as const)
      expect(planTransition(s, 'start')).toEqual({ kind: 'noop' });
    expect(planTransition('SUSPENDING', 'start')).toMatchObject({
      kind: 'forbidden',
      reason: expect.stringContaining('SUSPENDING'),
    });
    expect(planTransition('DELETING', 'start').kind).toBe('forbidden');
  });

  it('deletes from every state exactly once', () => {
    for (const s of WORKSPACE_STATUSES.filter((x) => x !== 'DELETING'))
      expect(planTransition(s, 'delete')).toEqual({
        kind: 'claim',
        next: 'DELETING',
        call: 'delete',
      });
    expect(planTransition('DELETING', 'delete')).toEqual({ kind: 'noop' });
  });
});
