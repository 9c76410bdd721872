/**
 * TEST ONLY: ways to make a party misbehave, as the party node's transport-fault hook
 * (`PartyTransportFaults`, packages/party-node/src/ports.ts) takes them. Used in process
 * (startInProcessCluster's `partyFaults`) and by faulty-party.mjs for real processes.
 */
import { fromHex, getSuite, toHex } from '@glacis/protocol';

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
