/** When cleanup will act on a workspace last active at `lastActivity`. */
export function computeDeadline(lastActivity: Date, idleTimeoutMinutes: number): Date {
  return new Date(lastActivity.getTime() + idleTimeoutMinutes * 60_000);
}

export function isPastDeadline(deadline: string | null, now: Date): boolean {
  return deadline !== null && Date.parse(deadline) <= now.getTime();
}
