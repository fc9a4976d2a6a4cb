/**
 * A container image reference, `repository[:tag][@digest]`, split once so
 * nothing downstream cuts a digest's `sha256:` apart at its colon.
 */
export interface ImageReference {
  /** Registry host (with port, if any) and path, e.g. `europe-docker.pkg.dev/p/repo/workspace`. */
  repository: string;
  tag: string | null;
  /** `sha256:` and 64 hex digits. */
  digest: string | null;
}

/** A digest as registries name it: `sha256:` and 64 lowercase hex digits. */
export const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Splits a reference; a colon before the last `/` belongs to the registry's port, not a tag. */
export function parseImageReference(reference: string): ImageReference {
  const at = reference.indexOf('@');
  const named = at === -1 ? reference : reference.slice(0, at);
  const digest = at === -1 ? null : reference.slice(at + 1);
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  return {
    repository: hasTag ? named.slice(0, colon) : named,
    tag: hasTag ? named.slice(colon + 1) : null,
    digest,
  };
}

/**
 * The workspace document's `image_tag`: what follows the repository, without
 * the leading `:`. A tag (`v1`), a tag and digest (`v1@sha256:…`) or a digest
 * alone (`sha256:…`); a tag never holds a colon, so the three cannot be confused
 * and documents written before digests were kept (plain tags) read the same.
 */
export function imageTagOf(image: ImageReference): string {
  if (image.digest === null) return image.tag ?? 'latest';
  return image.tag === null ? image.digest : `${image.tag}@${image.digest}`;
}

/** The full reference a workspace runs: the deployment's repository with the document's `image_tag`. */
export function workspaceImage(repository: string, imageTag: string): string {
  return IMAGE_DIGEST.test(imageTag) ? `${repository}@${imageTag}` : `${repository}:${imageTag}`;
}
