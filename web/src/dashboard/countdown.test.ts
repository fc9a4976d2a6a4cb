import { describe, expect, it } from 'vitest';
import { timeLeft } from './countdown.js';

const now = Date.parse('2026-11-30T12:00:00Z');
const inSeconds = (s: number) => new Date(now + s * 1000).toISOString();

describe('timeLeft, the idle countdown the dashboard shows', () => {
  it('reads hours and minutes while over an hour is left', () => {
    expect(timeLeft(inSeconds(4 * 3600 - 1), now)).toBe('3h 59m');
    expect(timeLeft(inSeconds(3600 + 5 * 60), now)).toBe('1h 05m');
  });

  it('counts seconds in the last hour, and days past one', () => {
    expect(timeLeft(inSeconds(4 * 60 + 7), now)).toBe('4m 07s');
    expect(timeLeft(inSeconds(2 * 86_400 + 3 * 3600), now)).toBe('2d 3h');
  });

  it('says now once the deadline has passed, and a dash when there is none', () => {
    expect(timeLeft(inSeconds(-30), now)).toBe('now');
    expect(timeLeft(null, now)).toBe('—');
  });
});
