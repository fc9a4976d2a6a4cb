/** A Cloud Audit Logs event as Eventarc delivers it (structured CloudEvents mode). */
export function auditLogEvent(e: {
  projectId: string;
  zone: string;
  methodName: string;
  instance: string;
  extra?: Record<string, unknown>;
}) {
  const resourceName = `projects/${e.projectId}/zones/${e.zone}/instances/${e.instance}`;
  return {
    specversion: '1.0',
    id: `${Math.random()}`,
    source: '//cloudaudit.googleapis.com/projects/p/logs/cloudaudit.googleapis.com%2Factivity',
    type: 'google.cloud.audit.log.v1.written',
    subject: `compute.googleapis.com/${resourceName}`,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: {
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
        serviceName: 'compute.googleapis.com',
        methodName: e.methodName,
        resourceName,
        authenticationInfo: { principalEmail: 'someone@example.com' },
      },
      resource: {
        type: 'gce_instance',
        labels: { project_id: e.projectId, zone: e.zone, instance_id: '1' },
      },
      severity: 'NOTICE',
      logName: `projects/${e.projectId}/logs/cloudaudit.googleapis.com%2Factivity`,
      ...e.extra,
    },
  };
}
