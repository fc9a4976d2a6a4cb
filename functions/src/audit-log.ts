/** What the function needs from a Cloud Audit Logs CloudEvent about a Compute Engine instance. */
export interface InstanceEvent {
  project: string;
  zone: string;
  instance: string;
  method: string;
}

interface AuditLogData {
  protoPayload?: { serviceName?: string; methodName?: string; resourceName?: string };
  resource?: { type?: string; labels?: Record<string, string> };
}

const RESOURCE = /^projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/;

/**
 * Reads an Eventarc audit-log event. Returns why it is not usable instead of
 * throwing: a malformed event is acknowledged, never retried forever.
 */
export function parseInstanceEvent(
  data: unknown,
  subject?: string,
): { event: InstanceEvent } | { ignored: string } {
  if (typeof data !== 'object' || data === null) return { ignored: 'event has no data' };
  const proto = (data as AuditLogData).protoPayload;
  if (!proto) return { ignored: 'not an audit log entry (no protoPayload)' };
  if (proto.serviceName !== 'compute.googleapis.com')
    return { ignored: `not a Compute Engine event (${String(proto.serviceName)})` };
  const method = proto.methodName ?? '';
  if (!/compute\.instances\./.test(method))
    return { ignored: `not an instance method (${method})` };
  const resourceName =
    proto.resourceName ?? subject?.replace(/^compute\.googleapis\.com\//, '') ?? '';
  const m = resourceName.match(RESOURCE);
  if (!m) return { ignored: `not an instance resource (${resourceName.slice(0, 200)})` };
  return { event: { project: m[1]!, zone: m[2]!, instance: m[3]!, method } };
}
