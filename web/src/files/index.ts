/**
 * The files panel's mount point (owner: `files`). The terminal page calls it with the panel's
 * element and the workspace; it returns a function called when the page goes away.
 * Use ../hub-api.ts's `call` for JSON requests and ../credential.ts's `authorizationHeaders()`
 * for others (uploads, downloads): dev mode's credential is a header, never a cookie.
 */
export interface FilesPanelContext {
  workspaceId: string;
}

export function mountFilesPanel(_el: HTMLElement, _ctx: FilesPanelContext): () => void {
  return () => undefined;
}
