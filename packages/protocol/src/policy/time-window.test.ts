import { describe, expect, it } from 'vitest';
import type { TimeCondition } from './schema.js';
import { timeMatches } from './time-window.js';

/** 2024-01-05 is a Friday; `utc(d, h, m)` is day d of January 2024 at h:m UTC. */
const utc = (d: number, h: number, m = 0, s = 0, ms = 0) => Date.UTC(2024, 0, d, h, m, s, ms);
const FRI = 5;
const SAT = 6;
const SUN = 7;
const MON = 8;

const businessHours: TimeCondition = { windows: [{ from: '09:00', to: '17:30' }], weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] };
const fridayNight: TimeCondition = { windows: [{ from: '22:00', to: '06:00' }], weekdays: ['fri'] };
const everyNight: TimeCondition = { windows: [{ from: '22:00', to: '06:00' }] };
const weekend: TimeCondition = { weekdays: ['sat', 'sun'] };
const untilMidnight: TimeCondition = { windows: [{ from: '18:00', to: '24:00' }] };

describe('UTC time conditions', () => {
  const table: [string, TimeCondition, number, boolean][] = [
    ['business hours: Friday 09:00 exactly (from is inclusive)', businessHours, utc(FRI, 9), true],
    ['business hours: Friday 08:59:59.999', businessHours, utc(FRI, 8, 59, 59, 999), false],
    ['business hours: Friday 17:29:59', businessHours, utc(FRI, 17, 29, 59), true],
    ['business hours: Friday 17:30 exactly (to is exclusive)', businessHours, utc(FRI, 17, 30), false],
    ['business hours: Saturday noon (weekday edge)', businessHours, utc(SAT, 12), false],
    ['business hours: Monday 09:00 (weekday edge)', businessHours, utc(MON, 9), true],
    ['every night: 23:59 is inside', everyNight, utc(SAT, 23, 59), true],
    ['every night: 00:00 is inside (across midnight)', everyNight, utc(SUN, 0), true],
    ['every night: 05:59:59 is inside', everyNight, utc(SUN, 5, 59, 59), true],
    ['every night: 06:00 is outside', everyNight, utc(SUN, 6), false],
    ['every night: 21:59 is outside', everyNight, utc(SUN, 21, 59), false],
    ['Friday night: Friday 22:00 (evening part, Friday)', fridayNight, utc(FRI, 22), true],
    ['Friday night: Saturday 03:00 (morning part belongs to Friday)', fridayNight, utc(SAT, 3), true],
    ['Friday night: Saturday 06:00 (ended)', fridayNight, utc(SAT, 6), false],
    ['Friday night: Friday 03:00 (that is Thursday night)', fridayNight, utc(FRI, 3), false],
    ['Friday night: Saturday 22:00 (Saturday is not listed)', fridayNight, utc(SAT, 22), false],
    ['weekend only: Saturday 00:00', weekend, utc(SAT, 0), true],
    ['weekend only: Sunday 23:59:59.999', weekend, utc(SUN, 23, 59, 59, 999), true],
    ['weekend only: Monday 00:00', weekend, utc(MON, 0), false],
    ['weekend only: Friday 23:59:59.999', weekend, utc(FRI, 23, 59, 59, 999), false],
    ['18:00 to 24:00: 23:59:59', untilMidnight, utc(FRI, 23, 59, 59), true],
    ['18:00 to 24:00: next day 00:00 is outside', untilMidnight, utc(SAT, 0), false],
  ];
  for (const [name, cond, now, expected] of table) {
    it(name, () => {
      expect(timeMatches(cond, now)).toBe(expected);
    });
  }

  it('Sunday night into Monday: a window across midnight wraps the week (sat→sun→mon)', () => {
    const sundayNight: TimeCondition = { windows: [{ from: '20:00', to: '04:00' }], weekdays: ['sun'] };
    expect(timeMatches(sundayNight, utc(MON, 3, 59))).toBe(true);
    expect(timeMatches(sundayNight, utc(SUN, 3, 59))).toBe(false);
    // The Saturday-night window's morning lands on Sunday: weekday index wraps from 0 to 6.
    const saturdayNight: TimeCondition = { windows: [{ from: '20:00', to: '04:00' }], weekdays: ['sat'] };
    expect(timeMatches(saturdayNight, utc(SUN, 1))).toBe(true);
  });

  it('several windows: any one holding is enough', () => {
    const split: TimeCondition = {
      windows: [
        { from: '08:00', to: '12:00' },
        { from: '13:00', to: '17:00' },
      ],
    };
    expect([utc(FRI, 11, 59), utc(FRI, 12, 30), utc(FRI, 13)].map((t) => timeMatches(split, t))).toEqual([true, false, true]);
  });
});
