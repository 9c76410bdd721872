/**
 * TEST ONLY: ways to make a party misbehave, as the party node's transport-fault hook
 * (`PartyTransportFaults`, packages/party-node/src/ports.ts) takes them. Used in process
 * (startInProcessCluster's `partyFaults`) and by faulty-party.mjs for real processes.
 */
import { createSigner, fromHex, getSuite, toHex } from '@glacis/protocol';

/**
 * Every signature share goes out as z + 1: provably invalid, so a test can show that ROAST names
 * and excludes exactly this party. `suiteOf(keyId)` is the suite of a key the party holds.
 * @param {(keyId: string) => string} suiteOf
 */
export function corruptShares(suiteOf) {
  return {
    /** @param {{ type: string, body: { keyId: string, share: string } }} out */
    outbound(out) {
      if (out.type !== 'signature_share') return [out];
      const { Fn } = getSuite(suiteOf(out.body.keyId));
      const share = Fn.toBytes(Fn.add(Fn.fromBytes(fromHex(out.body.share)), 1n));
      return [{ ...out, body: { ...out.body, share: toHex(share) } }];
    },
  };
}

/**
 * Withdraws from every signing session (issue 10, item 3): the commitments this party hands out
 * are decoys, made by a second signer its own never knew, so its signer answers every package at
 * once with `unknown_commitment` — a `sign_refused` that is no policy refusal, which frees the
 * party for the next session without blame. `shareOf(keyId)` is a share the party holds.
 * @param {(keyId: string) => import('@glacis/protocol').KeyShare} shareOf
 */
export function withdrawEverySession(shareOf) {
  const decoys = new Map();
  const decoyOf = (keyId) => {
    if (!decoys.has(keyId))
      decoys.set(
        keyId,
        createSigner(shareOf(keyId), (n = 32) => crypto.getRandomValues(new Uint8Array(n))),
      );
    return decoys.get(keyId);
  };
  return {
    /** @param {{ type: string, body: { keyId: string, commitments: unknown[] } }} out */
    outbound(out) {
      if (out.type !== 'commitments') return [out];
      const decoy = decoyOf(out.body.keyId);
      return [{ ...out, body: { ...out.body, commitments: out.body.commitments.map(() => decoy.commit()) } }];
    },
  };
}
