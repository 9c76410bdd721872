/**
 * The facts a policy decides on. SECURITY: every fact comes from the party's own key record and
 * from the intent the party parsed itself (`interpretIntent`), never from request metadata the
 * coordinator relays (context, labels it claims, amounts it states): invariant 7.
 */
/** One payment out of the key's control. */
export interface Destination {
  /** The address on the party's configured network, or null for a script with no address form (OP_RETURN, bare scripts). */
  readonly address: string | null;
  /** In the intent's smallest unit (satoshis). */
  readonly amount: bigint;
}

interface KeyFacts {
  readonly keyId: string;
  /** The label the party holds for the key (null when it holds none). */
  readonly keyLabel: string | null;
}

/** Facts of one request. A raw intent carries no amounts or destinations: nothing can be read from opaque bytes. */
export type PolicyFacts = KeyFacts &
  (
    | { readonly intentType: 'raw' }
    | {
        readonly intentType: 'bitcoin-psbt';
        /** Outputs that leave the key (change back to the key's own output script is not a destination). */
        readonly destinations: readonly Destination[];
        /** Σ destinations. */
        readonly amount: bigint;
        /** Σ inputs − Σ outputs. */
        readonly fee: bigint;
      }
  );

/**
 * What a request is worth against velocity limits: one signature, and the value that leaves the
 * key's control (destinations plus fee; zero for a raw intent).
 */
export function countedValue(facts: PolicyFacts): bigint {
  return facts.intentType === 'raw' ? 0n : facts.amount + facts.fee;
}
