/** "3h 12m", "4m 05s", "now": time left until an idle deadline, as the dashboard shows it. */
export function timeLeft(deadline: string | null, now = Date.now()): string {
  if (!deadline) return '—';
  const ms = Date.parse(deadline) - now;
  if (ms <= 0) return 'now';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${hours}h`;
  if (hours > 0) return `${hours}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(s % 60).padStart(2, '0')}s`;
}
