import type { SFTPWrapper } from 'ssh2';

/**
 * The longest SFTP packet the agent reads: its server is ssh2's, which takes packets of up to
 * 256 KiB (`OPENSSH_MAX_PKT_LEN`, as OpenSSH's sftp-server), less a margin. The agent's
 * sftp-forwarding test holds it to that; hub/test/agent-link.test.ts, ssh2 to what is used here.
 */
export const AGENT_MAX_WRITE_BYTES = 255 * 1024;

/** What ssh2 cuts a WRITE at when the server announces no `limits@openssh.com` (34000 − 2048). */
const SSH2_DEFAULT_WRITE_BYTES = 31_952;

/** The parts of ssh2's SFTPWrapper (1.x) the upload tunes; none is in its typings. */
interface Ssh2SftpInternals {
  /** ssh2 cuts a longer write in pieces, each sent after the previous one's answer. */
  _maxWriteLen?: unknown;
  /** The agent's SSH channel packet size: a WRITE longer than it travels as several packets. */
  outgoing?: { packetSize?: unknown };
}

const internals = (sftp: SFTPWrapper) => sftp as unknown as Ssh2SftpInternals;

/**
 * Lets ssh2 send WRITEs as long as the agent reads. The agent's server announces no
 * `limits@openssh.com` (ssh2's server sends a bare VERSION), so ssh2 would cut every WRITE at
 * 31,952 bytes, and a 32 KiB write became two WRITEs, the second sent after the first was
 * answered. A later ssh2 without the field keeps its own limit: writes still work, in pieces.
 */
export function allowAgentWrites(sftp: SFTPWrapper): void {
  const sftpInternals = internals(sftp);
  if (typeof sftpInternals._maxWriteLen === 'number')
    sftpInternals._maxWriteLen = Math.max(sftpInternals._maxWriteLen, AGENT_MAX_WRITE_BYTES);
}

/**
 * The bytes one WRITE on `handle` should carry: as many as the agent reads, rounded so that the
 * request fills whole SSH packets (a request one byte over a packet costs the hub and the agent a
 * whole extra packet: its padding, MAC, encryption and system call).
 */
export function writeBytesFor(sftp: SFTPWrapper, handle: Buffer): number {
  const { _maxWriteLen, outgoing } = internals(sftp);
  const max = typeof _maxWriteLen === 'number' ? _maxWriteLen : SSH2_DEFAULT_WRITE_BYTES;
  const packet = typeof outgoing?.packetSize === 'number' ? outgoing.packetSize : 0;
  // length, type, request id, handle (length and bytes), offset, data length.
  const header = 4 + 1 + 4 + 4 + handle.length + 8 + 4;
  const packets = packet > 0 ? Math.floor((max + header) / packet) : 0;
  return packets > 0 ? packets * packet - header : max;
}
