/**
 * How a coordinator instance numbers the envelopes it seals. Every instance signs as `coordinator`
 * with the one identity key the parties pin, and a party refuses, per (session, sender), any seq
 * not above the last it saw (protocol ReplayGuard). Most sessions belong to one instance life (their
 * ids carry its epoch), but a DKG's is the key's: an instance that takes over a DKG another one
 * left, or answers a party's key_sync, speaks in a session another instance spoke in before.
 *
 * So seq is the wall clock in microseconds, kept strictly increasing within the instance: a message
 * sealed later, by any instance, carries a higher seq than one sealed earlier, as long as the
 * instances' clocks agree to within the time between the two (a takeover comes a lease TTL after
 * the previous holder's last word; keep the clocks in sync with NTP).
 */
import { createEnvelopeSealer, type EnvelopeSealer, type IdentityKey } from '@glacis/protocol';

/** A sealer for `name` whose seq follows `nowMs` (µs), never repeating or going back. */
export function createClockSealer(name: string, identity: IdentityKey, nowMs: () => number): EnvelopeSealer {
  let last = 0;
  return Object.freeze({
    name,
    seal(out: Parameters<EnvelopeSealer['seal']>[0]) {
      const seq = Math.max(last + 1, Math.floor(nowMs() * 1000));
      last = seq;
      return createEnvelopeSealer(name, identity, seq).seal(out);
    },
  });
}
