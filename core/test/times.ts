/** The fixed "now" of core's unit tests. */
export const NOW = new Date('2026-01-01T06:00:00.000Z');
export const MIN = 60_000;
/** `ms` after NOW, as the API writes times. */
export const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
