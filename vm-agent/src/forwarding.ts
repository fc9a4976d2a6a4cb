import { connect } from 'node:net';
import type {
  AcceptConnection,
  ClientInfo,
  RejectConnection,
  ServerChannel,
  TcpipRequestInfo,
} from 'ssh2';
import { audit } from './log.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * `ssh -L`: connects to a port on this machine's loopback, except the ports in
 * `denyPorts`; every other destination is refused. On GCE that loopback is the
 * VM's own; in local mode it is the developer's machine, where the hub and the
 * Firestore emulator listen (the local driver denies their ports).
 */
export function handleDirectTcpip(
  accept: AcceptConnection<ServerChannel>,
  reject: RejectConnection,
  info: TcpipRequestInfo,
  who: { user: string; deviceId: string; remote: ClientInfo },
  denyPorts: ReadonlySet<number>,
  onActivity: () => void,
): void {
  const refusal = !isLoopback(info.destIP)
    ? 'not loopback'
    : denyPorts.has(info.destPort)
      ? 'port denied'
      : null;
  audit('forward', {
    user: who.user,
    device_id: who.deviceId,
    dest_host: info.destIP,
    dest_port: info.destPort,
    allowed: refusal === null,
    ...(refusal ? { reason: refusal } : {}),
  });
  if (refusal) {
    reject();
    return;
  }
  const host = info.destIP === 'localhost' ? '127.0.0.1' : info.destIP.replace(/^\[|\]$/g, '');
  const socket = connect({ host, port: info.destPort });
  socket.once('error', () => reject());
  socket.once('connect', () => {
    onActivity();
    socket.removeAllListeners('error');
    const channel = accept();
    socket.on('data', onActivity);
    channel.on('data', onActivity);
    socket.pipe(channel).pipe(socket);
    const closeBoth = () => {
      socket.destroy();
      channel.destroy();
    };
    socket.on('error', closeBoth);
    channel.on('error', closeBoth);
    channel.on('close', closeBoth);
  });
}
