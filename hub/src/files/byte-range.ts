/** The part of a file a `Range: bytes=…` header asks for (RFC 9110 §14.1.2). */
export type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/**
 * One byte range of a file of `size` bytes: `bytes=A-B`, `bytes=A-` or `bytes=-N`. `null`
 * (send the whole file) for no header, another unit or several ranges, which a server may
 * ignore; `unsatisfiable` for a range that starts past the end (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return null;
  return { start, end };
}
