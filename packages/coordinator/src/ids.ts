/**
 * Identifiers the coordinator hands out: `<prefix>_<26 chars>`, ULID-shaped (48-bit millisecond
 * time then 80 random bits, Crockford base32), so ids sort roughly by creation and stay URL-safe.
 */
import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** What an id names. */
export type IdKind = 'key' | 'sig' | 'op';

/** Every id the coordinator accepts in a URL or body: opaque, URL-safe, bounded. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** A fresh id such as `key_01J9Z3...`. `now` and `random` are injectable for tests. */
export function newId(kind: IdKind, now: number = Date.now(), random: Uint8Array = randomBytes(10)): string {
  if (random.length < 10) throw new RangeError('newId: random must hold at least 10 bytes');
  let time = '';
  let t = Math.max(0, Math.floor(now));
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  // 80 random bits = 16 base32 digits; read them 5 bits at a time from a bit accumulator.
  let rand = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 10; i++) {
    acc = (acc << 8) | (random[i] as number);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      rand += CROCKFORD[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return `${kind}_${time}${rand}`;
}
