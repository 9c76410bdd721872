/**
 * UTC time conditions. A window `from`–`to` with `to` earlier than `from` runs across midnight,
 * and belongs to the day it STARTS on: "fri 22:00–06:00" holds from Friday 22:00 until Saturday
 * 06:00, which is what the person who wrote it meant, and does not hold on Friday 00:00–06:00
 * (that early morning belongs to Thursday's window). Without windows, weekdays name whole UTC days.
 */
import { type TimeCondition, WEEKDAYS, type Weekday } from './schema.js';

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** True when `now` (ms since the epoch) satisfies the condition. */
export function timeMatches(cond: TimeCondition, now: number): boolean {
  const at = new Date(now);
  const minute = at.getUTCHours() * 60 + at.getUTCMinutes();
  const today = at.getUTCDay();
  const onDay = (day: number) => cond.weekdays === undefined || cond.weekdays.includes(WEEKDAYS[(day + 7) % 7] as Weekday);
  if (cond.windows === undefined) return onDay(today);
  return cond.windows.some((w) => {
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    if (from < to) return minute >= from && minute < to && onDay(today);
    // Across midnight: the evening part belongs to today, the morning part to yesterday's window.
    return (minute >= from && onDay(today)) || (minute < to && onDay(today - 1));
  });
}
