/**
 * The user's own settings, in this browser's localStorage: the Bitcoin network PSBT addresses are
 * rendered for. It is the desk's choice, like the `glacis` CLI's `--network`, never the
 * coordinator's word: an address rendered for the wrong network does not look like the one the
 * approver expects.
 */
import { BITCOIN_NETWORKS, type BitcoinNetwork } from './intent-view.js';

const NETWORK = 'glacis.console.network';

/** The network chosen in this browser (bitcoin until one is chosen). */
export function loadNetwork(storage: Storage = globalThis.localStorage): BitcoinNetwork {
  const v = storage.getItem(NETWORK);
  return (BITCOIN_NETWORKS as readonly (string | null)[]).includes(v) ? (v as BitcoinNetwork) : 'bitcoin';
}

/** Saves the network. */
export function saveNetwork(network: BitcoinNetwork, storage: Storage = globalThis.localStorage): void {
  storage.setItem(NETWORK, network);
}
