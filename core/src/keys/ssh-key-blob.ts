import { createPublicKey } from 'node:crypto';

/** The SSH wire format's strings (uint32 length, then bytes) a key blob is made of, or null. */
function wireStrings(blob: Buffer): Buffer[] | null {
  const fields: Buffer[] = [];
  for (let at = 0; at < blob.length; ) {
    if (blob.length - at < 4) return null;
    const len = blob.readUInt32BE(at);
    at += 4;
    if (len > blob.length - at) return null;
    fields.push(blob.subarray(at, at + len));
    at += len;
  }
  return fields;
}

const CURVES: Record<string, { jwk: string; coordinate: number }> = {
  nistp256: { jwk: 'P-256', coordinate: 32 },
  nistp384: { jwk: 'P-384', coordinate: 48 },
  nistp521: { jwk: 'P-521', coordinate: 66 },
};

/** Node's key parser as the judge: it refuses points off the curve and malformed numbers. */
function acceptedByCrypto(jwk: Record<string, string>): boolean {
  try {
    createPublicKey({ key: jwk, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}

const b64url = (b: Buffer) => b.toString('base64url');

function validEcdsaPoint(curveName: Buffer, point: Buffer, expectedCurve: string): boolean {
  const curve = CURVES[expectedCurve];
  if (!curve || curveName.toString('latin1') !== expectedCurve) return false;
  // Uncompressed point: 0x04, then x and y (what OpenSSH writes).
  if (point.length !== 1 + 2 * curve.coordinate || point[0] !== 4) return false;
  const x = point.subarray(1, 1 + curve.coordinate);
  const y = point.subarray(1 + curve.coordinate);
  return acceptedByCrypto({ kty: 'EC', crv: curve.jwk, x: b64url(x), y: b64url(y) });
}

/** An mpint without its sign byte; null when negative or empty. */
function positiveMpint(b: Buffer): Buffer | null {
  if (b.length === 0 || (b[0]! & 0x80) !== 0) return null;
  return b[0] === 0 ? b.subarray(1) : b;
}

/**
 * Why the blob of an OpenSSH public key of `type` is unusable, or null when it
 * is whole: exactly the fields its type has (RFC 4253 6.6, RFC 5656 3.1,
 * RFC 8709 4, OpenSSH PROTOCOL.u2f), sizes right, the key itself valid.
 */
export function keyBlobProblem(type: string, blob: Buffer): string | null {
  const fields = wireStrings(blob);
  if (!fields || fields[0]?.toString('latin1') !== type) return 'key data does not match its type';
  const [, a, b, c] = fields;
  const truncated = 'key data is truncated or malformed';
  switch (type) {
    case 'ssh-ed25519':
      return fields.length === 2 && a?.length === 32 ? null : truncated;
    case 'sk-ssh-ed25519@openssh.com':
      return fields.length === 3 && a?.length === 32 && b?.length ? null : truncated;
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
      return fields.length === 3 && validEcdsaPoint(a!, b!, type.slice('ecdsa-sha2-'.length))
        ? null
        : truncated;
    case 'sk-ecdsa-sha2-nistp256@openssh.com':
      return fields.length === 4 && validEcdsaPoint(a!, b!, 'nistp256') && c?.length
        ? null
        : truncated;
    case 'ssh-rsa': {
      if (fields.length !== 3) return truncated;
      const e = positiveMpint(a!);
      const n = positiveMpint(b!);
      if (!e || !n) return truncated;
      if (n.length * 8 < 2048) return 'RSA keys must be at least 2048 bits';
      return acceptedByCrypto({ kty: 'RSA', e: b64url(e), n: b64url(n) }) ? null : truncated;
    }
    default:
      return `unsupported key type ${type.slice(0, 40)}`;
  }
}
