/**
 * Decoding a party's round-one nonce commitments (RFC 9591 §5.1) once. ROAST validates a
 * commitment when the party becomes ready and the aggregator must validate what it is handed;
 * both go through here, and the second look at the same wire object is a lookup, not a second
 * decode + subgroup check (on ed25519 the subgroup check alone is a full scalar multiplication).
 */
import { fromHex } from '../bytes.js';
import type { GroupPoint, Suite, SuiteId } from '../suites.js';
import type { NonceCommitmentWire } from '../wire/messages.js';

/** One party's commitment pair, validated, with the exact bytes it arrived as (canonical by §3.1). */
export interface ParsedCommitment {
  readonly hiding: GroupPoint;
  readonly binding: GroupPoint;
  readonly hidingBytes: Uint8Array;
  readonly bindingBytes: Uint8Array;
}

type Entry = { suite: SuiteId; hiding: string; binding: string; parsed: ParsedCommitment };

// Keyed by the wire object a caller holds on to (ROAST keeps the object it validated and hands the
// same one to the aggregator); the hex strings are compared on every hit, so an object mutated
// after validation is decoded afresh rather than trusted. Weak: no bound or eviction needed.
const seen = new WeakMap<NonceCommitmentWire, Entry>();

/**
 * RFC 9591 §3.1 DeserializeElement of both commitments of `c` (via `suite.parseElement`: canonical,
 * on the curve, not the identity, in the prime-order subgroup). Throws `invalid_hex` /
 * `invalid_point` naming `culprit`. `label` prefixes the element names in error messages.
 */
export function parseNonceCommitment(suite: Suite, c: NonceCommitmentWire, label: string, culprit?: string): ParsedCommitment {
  const hit = seen.get(c);
  if (hit !== undefined && hit.suite === suite.id && hit.hiding === c.hiding && hit.binding === c.binding) return hit.parsed;
  const hidingBytes = fromHex(c.hiding, `${label}hiding commitment`);
  const bindingBytes = fromHex(c.binding, `${label}binding commitment`);
  const parsed: ParsedCommitment = Object.freeze({
    hiding: suite.parseElement(hidingBytes, `${label}hiding commitment`, culprit),
    binding: suite.parseElement(bindingBytes, `${label}binding commitment`, culprit),
    hidingBytes,
    bindingBytes,
  });
  seen.set(c, { suite: suite.id, hiding: c.hiding, binding: c.binding, parsed });
  return parsed;
}
