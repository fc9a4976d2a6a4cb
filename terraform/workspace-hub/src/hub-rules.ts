import { ARTIFACT_REGISTRY_IMAGE, IMAGE_MAX_LENGTH, SECRET_NAME } from '@workspace-hub/cloud-init';

/**
 * A JavaScript pattern as a Terraform regex() literal inside an HCL string:
 * RE2 spells named groups `(?P<name>`, HCL has no `\.` escape, and `/` needs none.
 */
export function re2Literal(pattern: RegExp): string {
  const source = pattern.source
    .replaceAll('(?<', '(?P<')
    .replaceAll('\\.', '[.]')
    .replaceAll('\\/', '/');
  if (source.includes('\\') || source.includes('${') || source.includes('%{'))
    throw new Error(`pattern needs HCL escaping: ${source}`);
  return `"${source}"`;
}

/** The hub's own patterns (cloud-init's spec), so the plan refuses what the hub would. */
export const WORKSPACE_IMAGE_RULE = `length(var.workspace_image) <= ${IMAGE_MAX_LENGTH} && can(regex(${re2Literal(ARTIFACT_REGISTRY_IMAGE)}, var.workspace_image))`;
export const SECRET_NAMES_RULE = `alltrue([for s in var.workspace_secret_names : can(regex(${re2Literal(SECRET_NAME)}, s))])`;

/** A whole number at least `min` (HUB_* integers: zod's int().min()); 0 too when 0 leaves it unset. */
export function wholeNumberRule(variable: string, min: number, max?: number, zeroUnsets = false) {
  const v = `var.${variable}`;
  const range = `${v} >= ${min}${max === undefined ? '' : ` && ${v} <= ${max}`}`;
  return `floor(${v}) == ${v} && (${zeroUnsets ? `${v} == 0 || ` : ''}${range})`;
}

/** zod's url({ protocol: /^https?$/ }): a scheme, then a host. */
export const HUB_URL_RULE =
  'var.hub_url == "" || can(regex("^https?://[^/?#@:]+(:[0-9]+)?([/?#].*)?$", var.hub_url))';
