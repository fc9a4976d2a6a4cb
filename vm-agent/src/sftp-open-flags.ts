import { constants } from 'node:fs';
import ssh2 from 'ssh2';

const { OPEN_MODE } = ssh2.utils.sftp;

/**
 * SSH_FXP_OPEN's pflags as open(2) flags, bit by bit (as OpenSSH's sftp-server
 * maps them): any combination is valid, not only the ones fopen() modes spell.
 * OpenSSH 9's `scp` opens uploads WRITE|CREAT without TRUNC (it truncates at
 * the end), which no fopen() mode names.
 */
export function openFlags(pflags: number): number {
  const read = (pflags & OPEN_MODE.READ) !== 0;
  const write = (pflags & OPEN_MODE.WRITE) !== 0;
  let flags = read && write ? constants.O_RDWR : write ? constants.O_WRONLY : constants.O_RDONLY;
  if (pflags & OPEN_MODE.APPEND) flags |= constants.O_APPEND;
  if (pflags & OPEN_MODE.CREAT) flags |= constants.O_CREAT;
  if (pflags & OPEN_MODE.TRUNC) flags |= constants.O_TRUNC;
  if (pflags & OPEN_MODE.EXCL) flags |= constants.O_EXCL;
  return flags;
}
