/** @glacis/party-node — the party daemon, usable as a library by tests and the local cluster. */
export { ConfigError, loadPartyConfig, type PartyConfig, type Policy, partyConfigSchema } from './config.js';
export { type Keystore, KeystoreError, openKeystore, type StoredShare } from './keystore/keystore.js';
export { type PartyNode, type PartyNodeOptions, startPartyNode } from './node.js';
export { evaluatePolicy, type PolicyVerdict } from './policy/policy.js';
export { openShareLog, readShareLog, type ShareLog, type ShareRelease, verifyShareLog } from './share-log/share-log.js';
