import { App } from 'cdktf';
import { WorkspaceHubStack } from './stack.js';

type Json = Record<string, unknown>;

/**
 * google-beta only for google_project_service_identity; time for the IAM
 * propagation wait. A caller that configures neither gets their defaults
 * (credentials from the environment), and every resource names its project.
 */
export const REQUIRED_PROVIDERS = {
  google: { source: 'hashicorp/google', version: '>= 6.50, < 7.0' },
  'google-beta': { source: 'hashicorp/google-beta', version: '>= 6.50, < 7.0' },
  time: { source: 'hashicorp/time', version: '>= 0.9, < 1.0' },
};

/** CDKTF bookkeeping (`//` keys: construct paths, versions) would make the module noisy and unstable. */
function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Json)
    .filter(([key]) => key !== '//')
    .map(([key, inner]) => [key, withoutMetadata(inner)] as const);
  return Object.fromEntries(entries);
}

/** Sorted keys so the output depends only on the source, never on construction order. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value as Json)
      .sort()
      .map((key) => [key, sorted((value as Json)[key])]),
  );
}

/** The module's files by name: plain Terraform JSON, no backend, no provider configuration. */
export function synthesizeModule(): Record<string, string> {
  const app = new App({ outdir: '/nonexistent-cdktf-out', skipValidation: true });
  const stack = new WorkspaceHubStack(app, 'workspace-hub');
  const full = withoutMetadata(stack.toTerraform()) as Json;
  const { variable, output, terraform, provider: _provider, ...main } = full;
  const { backend: _backend, ...settings } = (terraform ?? {}) as Json;
  const files: Record<string, Json> = {
    'versions.tf.json': {
      terraform: {
        ...settings,
        required_version: '>= 1.5',
        // A range, not CDKTF's exact pin, so the module composes with callers' providers.
        required_providers: REQUIRED_PROVIDERS,
      },
    },
    'variables.tf.json': { variable: variable as Json },
    'main.tf.json': main,
    'outputs.tf.json': { output: output as Json },
  };
  return Object.fromEntries(
    Object.entries(files).map(([name, body]) => [
      name,
      `${JSON.stringify(sorted(body), null, 2)}\n`,
    ]),
  );
}
