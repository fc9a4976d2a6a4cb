import './files.css';
import { filesPanel } from './panel.js';

/**
 * The files panel's mount point: the terminal page calls it with the panel's element and the
 * workspace; it returns a function called when the page goes away (cancels uploads).
 */
export interface FilesPanelContext {
  workspaceId: string;
}

export function mountFilesPanel(el: HTMLElement, ctx: FilesPanelContext): () => void {
  return filesPanel(el, ctx.workspaceId);
}
