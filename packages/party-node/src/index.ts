/** @glacis/party-node — the party daemon, usable as a library by tests and the local cluster. */
export { loadPartyConfig, type PartyConfig, type PolicyAdmins, partyConfigSchema, type StaticPolicy } from './config.js';
export { type DaemonOptions, runPartyDaemon } from './daemon.js';
export { isPartyError, PARTY_ERROR_CODES, PartyError, type PartyErrorCode } from './errors.js';
export { type Keystore, openKeystore, type ShareStatus, type StoredShare } from './keystore/keystore.js';
export type { UnlockSource } from './keystore/sealing.js';
export { resolveUnlockSource } from './keystore/unlock.js';
export { type PartyNode, type PartyNodeOptions, startPartyNode } from './node.js';
export { type ApprovalLedger, type ApprovalUse, openApprovalLedger } from './policy/approval-ledger.js';
export { type CountedApproval, type DecisionRecord, decide, type PriorUse } from './policy/decide.js';
export { DECISION_LOG_FILE, type DecisionLog, openDecisionLog, readDecisionLog, verifyDecisionLog } from './policy/decision-log.js';
export { type ActivePolicy, openPolicyStore, POLICY_FILE, type PolicyStore } from './policy/policy-store.js';
export { staticPolicyDocument } from './policy/static-policy.js';
export type { Clock, ConnectLink, CoordinatorLink, LinkEvents, PartyTransportFaults } from './ports.js';
export { openPartyRecords, type PartyRecords } from './records.js';
export { openShareLog, readShareLog, type ShareLog, type ShareRelease, verifyShareLog } from './share-log/share-log.js';
