/** Why a tunnel could not be opened or ended early; `code` is the relay's close code or HTTP status. */
export class IapTunnelError extends Error {
  override name = 'IapTunnelError';
  constructor(
    message: string,
    readonly code: number | undefined,
    /** True when retrying with the same credentials cannot help: re-login or grant access first. */
    readonly authFailure = false,
  ) {
    super(message);
  }
}

interface CloseMeaning {
  message: string;
  authFailure?: boolean;
}

/**
 * Close codes the relay uses in the 4000s. The service documents only some of
 * them; the reason string it sends is appended to every message.
 */
const CLOSE_CODES: Record<number, CloseMeaning> = {
  4000: { message: 'the relay rejected the request as invalid' },
  4001: { message: 'IAP TCP forwarding rejected the request (unknown or disabled)' },
  4003: {
    message:
      'IAP could not connect to the backend port (is the VM running, the port listening, and the firewall open to 35.235.240.0/20?)',
  },
  4004: { message: 'the relay asked to re-authenticate' },
  4005: { message: 'the tunnel session expired' },
  4010: {
    message: 'not authenticated: the access token was refused; log in again',
    authFailure: true,
  },
  4033: {
    message: 'not authorized: the account lacks roles/iap.tunnelResourceAccessor on this instance',
    authFailure: true,
  },
  4047: { message: 'the instance was not found (check project, zone and name)' },
  4070: { message: 'the connection to the backend timed out' },
};

export function closeCodeError(code: number, reason: string): IapTunnelError {
  const known = CLOSE_CODES[code];
  const suffix = reason ? ` [${code}: ${reason}]` : ` [${code}]`;
  if (known)
    return new IapTunnelError(`IAP tunnel: ${known.message}${suffix}`, code, known.authFailure);
  return new IapTunnelError(`IAP tunnel closed by the relay${suffix}`, code);
}

export function handshakeError(status: number, statusText: string): IapTunnelError {
  if (status === 401) {
    return new IapTunnelError(
      `IAP tunnel: the relay refused the access token (HTTP 401 ${statusText}); log in again`,
      401,
      true,
    );
  }
  if (status === 403) {
    return new IapTunnelError(
      `IAP tunnel: permission denied (HTTP 403 ${statusText}); the account needs roles/iap.tunnelResourceAccessor`,
      403,
      true,
    );
  }
  return new IapTunnelError(`IAP tunnel: the relay answered HTTP ${status} ${statusText}`, status);
}
