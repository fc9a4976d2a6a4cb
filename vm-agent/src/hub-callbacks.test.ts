import type { AgentReadyBody } from '@workspace-hub/api';
import { describe, expect, it } from 'vitest';
import { Activity } from './activity.js';
import { startHubCallbacks } from './hub-callbacks.js';
import { SessionManager } from './sessions.js';

/** A hub whose ready calls stay pending until the test answers them. */
function pendingHub() {
  const calls: { report: AgentReadyBody; answer: (ok: boolean) => void }[] = [];
  const hub = {
    ready: (report: AgentReadyBody) =>
      new Promise<boolean>((answer) => calls.push({ report, answer })),
    heartbeat: async () => false,
  };
  return { hub, calls };
}

const REPORT: AgentReadyBody = {
  workspace_id: 'ws-1',
  agent_version: 'test',
  host_key_fingerprint: 'SHA256:x',
  host_public_key: 'ssh-ed25519 AAAA',
  port: 2222,
};

const settle = () => new Promise((r) => setImmediate(r));

describe('startHubCallbacks', () => {
  it('reports ready at once, never twice at a time, and loses no request made meanwhile', async () => {
    const { hub, calls } = pendingHub();
    const activity = new Activity();
    const sessions = new SessionManager({
      home: '/tmp',
      shell: '/bin/sh',
      scrollbackBytes: 1024,
      activity,
      env: () => ({}),
    });
    const callbacks = startHubCallbacks({
      hub,
      report: REPORT,
      activity,
      sessions,
      heartbeatSeconds: 3600,
    });
    try {
      expect(calls.map((c) => c.report)).toEqual([REPORT]);
      // A resume and the hub's request arrive while the first report is out.
      callbacks.reportReady();
      callbacks.reportReady();
      expect(calls).toHaveLength(1);
      calls[0]?.answer(true);
      await settle();
      expect(calls).toHaveLength(2);
      calls[1]?.answer(true);
      await settle();
      expect(calls).toHaveLength(2);
      callbacks.reportReady();
      expect(calls).toHaveLength(3);
      calls[2]?.answer(false);
    } finally {
      callbacks.stop();
    }
  });
});
