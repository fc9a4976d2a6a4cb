import { connect } from 'node:net';

/** What a TCP connect attempt met: a listener, a reset (port closed), or silence (dropped). */
export type ProbeOutcome = 'connected' | 'refused' | 'dropped';

export function probeTcp(
  target: { host: string; port: number; localAddress?: string },
  timeoutMs: number,
): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect(target);
    const done = (outcome: ProbeOutcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done('dropped'));
    socket.once('connect', () => done('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'refused' : 'dropped'),
    );
  });
}
