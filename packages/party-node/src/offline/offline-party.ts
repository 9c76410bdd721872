/**
 * The offline party: the same keystore, policy, share log and signer as `glacis-party serve`, driven
 * by bundles instead of a socket. `preprocess` seals a batch of nonces at rest and exports their
 * commitments; `process` opens a bundle from the coordinator, answers each signing package (and
 * commitment request) in it through the ordinary signing handler, each DKG message through the
 * offline DKG (offline-dkg.ts) and each refresh, repair, reshare or drill message through the
 * offline lifecycle (offline-lifecycle.ts), and returns the answers as one bundle to the coordinator.
 *
 * Order for each share (DESIGN.md invariant 1): share log record (fsync) → nonce file deleted
 * (fsync of its directory) → the share in the response bundle, which the caller writes out. Before
 * anything, `reconcile` deletes every nonce the share log already names, so a crash between the
 * first two steps leaves nothing usable.
 */
import { randomBytes } from 'node:crypto';
import {
  COORDINATOR,
  createEnvelopeSealer,
  type Envelope,
  type EnvelopeSealer,
  fromHex,
  type IdentityKey,
  isProtocolError,
  type Message,
  type NonceCommitmentWire,
  OFFLINE_PREPROCESS_SESSION,
  type OpenedBundle,
  type Outgoing,
  openBundle,
  openEnvelope,
  ReplayGuard,
  type Rng,
  sealBundle,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { PartyConfig } from '../config.js';
import type { CrashPoint } from '../crash-points.js';
import { PartyError } from '../errors.js';
import type { Keystore } from '../keystore/keystore.js';
import { openPolicyStore } from '../policy/policy-store.js';
import type { Clock } from '../ports.js';
import type { PartyRecords } from '../records.js';
import { readShareLog } from '../share-log/share-log.js';
import { createSigningHandler, type NonceKeeper, type SigningView } from '../signing/signing-handler.js';
import { type NonceVault, openNonceVault } from './nonce-vault.js';
import { type DkgJoinView, isDkgMessage, type OfflineDkgResult, openOfflineDkg } from './offline-dkg.js';
import { openOfflineLedger } from './offline-ledger.js';
import {
  type BundleMessage,
  isLifecycleMessage,
  type LifecycleJoinView,
  type OfflineLifecycleResult,
  openOfflineLifecycle,
} from './offline-lifecycle.js';

/** The session id of preprocessed commitments: not a coordinator session, a standing offer. */
export const PREPROCESS_SESSION = OFFLINE_PREPROCESS_SESSION;

export interface OfflinePartyOptions {
  config: PartyConfig;
  identity: IdentityKey;
  keystore: Keystore;
  records: PartyRecords;
  logger: Logger;
  clock: Clock;
  rng?: Rng;
  crash?: (point: CrashPoint) => void;
}

/** What happened to one item of a request bundle. */
export type OfflineResult =
  | { kind: 'signed'; keyId: string; requestId: string; sessionId: string }
  | { kind: 'refused'; keyId: string; requestId: string; sessionId: string; code: string }
  | { kind: 'declined'; keyId: string; requestId: string; sessionId: string }
  | { kind: 'commitments'; keyId: string; count: number }
  | OfflineDkgResult
  | OfflineLifecycleResult
  | { kind: 'ignored'; type: string; reason: string };

/** What the operator is asked before this party acts. */
export interface OfflineConfirm {
  /** Before each share (see SigningView). */
  signing(view: SigningView): Promise<boolean>;
  /** Before joining a new key generation. */
  dkg(view: DkgJoinView): Promise<boolean>;
  /** Before taking part in a refresh, repair or reshare. */
  lifecycle(view: LifecycleJoinView): Promise<boolean>;
}

export interface OfflineSignOutcome {
  /** The request bundle, authenticated. */
  request: OpenedBundle;
  results: OfflineResult[];
  /** The response bundle for the coordinator, or null when there is nothing to send. */
  response: Uint8Array | null;
  /** Call once `response` is written out: records the request bundle as handled. */
  commit(): void;
}

export interface OfflineParty {
  /** Seals `count` fresh nonces of `keyId` at rest, then returns the bundle of their commitments. */
  preprocess(keyId: string, count: number): Uint8Array;
  /** Nonces of `keyId` sealed here, unused. */
  nonceCount(keyId: string): number;
  /** Answers a bundle from the coordinator: its signing packages, DKG, lifecycle and drill messages. */
  process(bundle: Uint8Array, confirm: OfflineConfirm): Promise<OfflineSignOutcome>;
}

/** The offline keeper: nonces sealed in the vault, adopted into each signer as it is made. */
function vaultNonces(vault: NonceVault): NonceKeeper {
  return {
    load(signer) {
      for (const entry of vault.load(signer.keyId)) signer.adopt(entry);
    },
    fresh(signer, count) {
      const entries = Array.from({ length: count }, () => signer.preprocess());
      // On disk first: a commitment may leave only once its nonce survives a crash.
      vault.store(signer.keyId, entries);
      for (const e of entries) signer.adopt(e);
      return entries.map((e) => e.commitment);
    },
    consumed: (keyId, commitments) => vault.consume(keyId, commitments),
  };
}

/** Deletes every nonce the share log names as consumed (a crash may have come between the two). */
function reconcile(dataDir: string, vault: NonceVault): void {
  for (const e of readShareLog(dataDir).events) {
    const data = e.data as { keyId?: string; commitments?: NonceCommitmentWire[] };
    if (e.type === 'share_released' && data.keyId && Array.isArray(data.commitments)) vault.consume(data.keyId, data.commitments);
  }
}

export function openOfflineParty(o: OfflinePartyOptions): OfflineParty {
  const { config, identity, keystore, logger, clock } = o;
  const self = config.partyId;
  const rng: Rng = o.rng ?? ((n = 32) => new Uint8Array(randomBytes(n)));
  const crash = o.crash ?? (() => undefined);
  const vault = openNonceVault(keystore);
  reconcile(keystore.dataDir, vault);
  const ledger = openOfflineLedger(keystore.dataDir);
  const coordinatorKey = fromHex(config.coordinator.identityKey);
  const keyOf = (name: string): Uint8Array | undefined => {
    if (name === COORDINATOR) return coordinatorKey;
    const k = config.peers[name];
    return k === undefined ? undefined : fromHex(k);
  };
  const nonces = vaultNonces(vault);
  const dkg = openOfflineDkg({
    self,
    identity,
    keystore,
    sessions: o.records.dkgSessions,
    keyOf: (name) => (name === self ? identity.publicKey : keyOf(name)),
    rng,
    clock,
    deadlineMs: config.dkg.offlineDeadlineMs,
    logger,
    crash,
  });
  const lifecycle = openOfflineLifecycle({
    self,
    identity,
    keystore,
    records: o.records,
    keyOf: (name) => (name === self ? identity.publicKey : keyOf(name)),
    policy: config.lifecycle,
    rng,
    clock,
    deadlineMs: config.dkg.offlineDeadlineMs,
    logger,
    crash,
    // Nonces made under a share that is no longer live are not used (as the daemon's signing handler discards them).
    onShareChanged: (keyId) =>
      vault.consume(
        keyId,
        vault.load(keyId).map((e) => e.commitment),
      ),
  });
  // Microsecond clock as the first seq, as the daemon does: each run numbers above the last, and
  // above every envelope a lifecycle session sends again (the coordinator checks them in order).
  const newSealer = (): EnvelopeSealer => createEnvelopeSealer(self, identity, Math.max(clock.now() * 1000, lifecycle.highestSeq() + 1));

  function seal(envelopes: readonly Envelope[]): Uint8Array {
    const now = clock.now();
    return sealBundle(
      {
        recipient: COORDINATOR,
        sequence: ledger.nextSequence(now),
        createdAt: now,
        items: envelopes.map((envelope) => ({ kind: 'envelope', envelope })),
      },
      { name: self, identity },
      rng,
    );
  }

  /** The ordinary signing handler on this party's records, its nonces in the vault, answering into `send`. */
  const handlerFor = (send: (m: Outgoing) => void, confirm?: (view: SigningView) => Promise<boolean>) =>
    createSigningHandler({
      keystore,
      config,
      policy: openPolicyStore(keystore.dataDir, config),
      shareLog: o.records.shareLog,
      approvals: o.records.approvals,
      decisions: o.records.decisions,
      rng,
      clock,
      send,
      logger,
      crash,
      nonces,
      ...(confirm ? { confirm } : {}),
    });

  return {
    nonceCount: (keyId) => vault.count(keyId),
    preprocess(keyId, count) {
      const stored = keystore.get(keyId);
      if (stored?.status !== 'active') throw new PartyError('unknown_key', `this party holds no active share of key ${keyId}`);
      const outgoing: Outgoing[] = [];
      // Through the signing handler's own commit path, so the nonces go to the vault the same way.
      const handler = handlerFor((m) => outgoing.push(m));
      for (let left = count; left > 0; left -= 1000) {
        handler.onCommitRequest({
          type: 'commit_request',
          sessionId: PREPROCESS_SESSION,
          from: COORDINATOR,
          to: self,
          seq: 0,
          body: { keyId, count: Math.min(left, 1000) },
        });
      }
      handler.close();
      const sealer = newSealer();
      const bundle = seal(outgoing.map((m) => sealer.seal(m)));
      ledger.save();
      return bundle;
    },
    async process(bytes, confirm) {
      const request = openBundle(bytes, { self, keyOf, ledger: ledger.received });
      crash('offline-opened');
      const sealer = newSealer();
      const outgoing: Envelope[] = [];
      const dkgMessages: Message[] = [];
      const lifecycleMessages: BundleMessage[] = [];
      const results: OfflineResult[] = [];
      const handler = handlerFor(
        (m) => {
          outgoing.push(sealer.seal(m));
          if (m.type === 'signature_share')
            results.push({ kind: 'signed', keyId: m.body.keyId, requestId: m.body.requestId, sessionId: m.sessionId });
          else if (m.type === 'sign_refused')
            results.push({ kind: 'refused', keyId: m.body.keyId, requestId: m.body.requestId, sessionId: m.sessionId, code: m.body.code });
          else if (m.type === 'commitments') results.push({ kind: 'commitments', keyId: m.body.keyId, count: m.body.commitments.length });
        },
        async (view) => {
          const yes = await confirm.signing(view);
          if (!yes) results.push({ kind: 'declined', keyId: view.pkg.keyId, requestId: view.pkg.requestId, sessionId: view.sessionId });
          return yes;
        },
      );
      const guard = new ReplayGuard();
      try {
        for (const item of request.items) {
          if (item.kind !== 'envelope') continue;
          let msg: Message;
          try {
            msg = openEnvelope(item.envelope, { self, keyOf, replay: guard });
          } catch (e) {
            results.push({ kind: 'ignored', type: item.envelope.type, reason: isProtocolError(e) ? e.code : 'invalid' });
            continue;
          }
          // A DKG carries the other members' own envelopes, relayed: each checked against its pinned key above.
          if (isDkgMessage(msg)) dkgMessages.push(msg);
          else if (isLifecycleMessage(msg)) lifecycleMessages.push({ msg, env: item.envelope });
          else if (msg.from !== COORDINATOR) results.push({ kind: 'ignored', type: msg.type, reason: 'not from the coordinator' });
          else if (msg.type === 'signing_package') await handler.onSigningPackage(msg);
          else if (msg.type === 'commit_request') handler.onCommitRequest(msg);
          else results.push({ kind: 'ignored', type: msg.type, reason: 'not a signing, DKG or lifecycle message' });
        }
      } finally {
        handler.close();
      }
      if (dkgMessages.length > 0) {
        const done = await dkg.process(dkgMessages, (m) => sealer.seal(m), confirm.dkg);
        outgoing.push(...done.envelopes);
        results.push(...done.results);
      }
      // Always: its own deadlines, and every session kept here sends its envelopes again.
      const kept = await lifecycle.process(lifecycleMessages, (m) => sealer.seal(m), confirm.lifecycle);
      outgoing.push(...kept.envelopes);
      results.push(...kept.results);
      return {
        request,
        results,
        response: outgoing.length === 0 ? null : seal(outgoing),
        commit() {
          ledger.received.record(request);
          ledger.save();
          crash('offline-ledger-saved');
        },
      };
    },
  };
}
