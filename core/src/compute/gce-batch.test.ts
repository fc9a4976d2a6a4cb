import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from './gce-batch.js';

// Shaped like the answer in Google's batch documentation: its boundary characters,
// extra headers, and parts in whatever order the server finished them.
const BOUNDARY = 'batch_pK7JBAk73-E=_AA5eFwv4m2Q=';
const part = (id: string, status: string, body: string) =>
  [
    `--${BOUNDARY}`,
    'Content-Type: application/http',
    `Content-ID: <response-item-${id}>`,
    '',
    `HTTP/1.1 ${status}`,
    'Content-Type: application/json; charset=UTF-8',
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');

describe('Compute batch encoding', () => {
  it('sends each call as an application/http part with its own Content-ID, path only', () => {
    const { body, contentType } = encodeBatch([
      { method: 'POST', path: '/compute/v1/projects/p/zones/z/instances/a/suspend?requestId=1' },
      { method: 'DELETE', path: '/compute/v1/projects/p/zones/z/instances/b?requestId=2' },
    ]);
    const boundary = /boundary=(\S+)/.exec(contentType)![1]!;
    const parts = body.split(`--${boundary}`);
    expect(parts).toHaveLength(4);
    expect(parts[3]).toBe('--\r\n');
    expect(parts[1]).toContain('Content-Type: application/http\r\nContent-ID: <item-0>\r\n\r\n');
    // Bodyless, and still labelled JSON, as Google's own batch clients send them.
    expect(parts[1]).toContain(
      'POST /compute/v1/projects/p/zones/z/instances/a/suspend?requestId=1 HTTP/1.1\r\nContent-Type: application/json\r\n\r\n',
    );
    expect(parts[2]).toContain(
      'DELETE /compute/v1/projects/p/zones/z/instances/b?requestId=2 HTTP/1.1\r\nContent-Type: application/json\r\n\r\n',
    );
  });

  it('puts answers back in call order by Content-ID, whatever order they came in', () => {
    const body = [
      part('1', '404 Not Found', '{"error":{"code":404,"message":"gone"}}'),
      part('0', '200 OK', '{"kind":"compute#operation","name":"operation-0"}'),
      `--${BOUNDARY}--`,
      '',
    ].join('\r\n');
    const answers = decodeBatch(body, `multipart/mixed; boundary=${BOUNDARY}`, 2);
    expect(answers).toEqual([
      { status: 200, json: { kind: 'compute#operation', name: 'operation-0' } },
      { status: 404, json: { error: { code: 404, message: 'gone' } } },
    ]);
  });

  it('reads bare-LF answers and a quoted boundary too', () => {
    const body = `${part('0', '200 OK', '{"name":"op"}')}\r\n--${BOUNDARY}--\r\n`.replaceAll(
      '\r\n',
      '\n',
    );
    expect(decodeBatch(body, `multipart/mixed; boundary="${BOUNDARY}"`, 1)).toEqual([
      { status: 200, json: { name: 'op' } },
    ]);
  });

  it('reports a call the answer left out as failed, never as done', () => {
    const body = `${part('0', '200 OK', '{"name":"op"}')}\r\n--${BOUNDARY}--\r\n`;
    const [first, second] = decodeBatch(body, `multipart/mixed; boundary=${BOUNDARY}`, 2);
    expect(first).toEqual({ status: 200, json: { name: 'op' } });
    expect(second!.status).toBe(502);
  });

  it('keeps the start of a part that is not JSON as its error message', () => {
    const body = `${part('0', '502 Bad Gateway', '<html>upstream down</html>')}\r\n--${BOUNDARY}--`;
    expect(decodeBatch(body, `multipart/mixed; boundary=${BOUNDARY}`, 1)).toEqual([
      { status: 502, json: { error: { message: '<html>upstream down</html>' } } },
    ]);
  });

  it('refuses an answer that is not multipart', () => {
    expect(() => decodeBatch('{}', 'application/json', 1)).toThrow(/not multipart\/mixed/);
  });
});
