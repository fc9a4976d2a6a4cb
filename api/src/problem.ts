import { z } from 'zod';
import { WorkspaceStatus } from './workspace.js';

/** RFC 9457 problem details, with our stable `code`. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  field: z.string().optional(),
  current_status: WorkspaceStatus.optional(),
});
export type Problem = z.infer<typeof Problem>;
