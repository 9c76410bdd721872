/**
 * The inbox of an offline party, attacked: each defect is refused with its own code and changes
 * nothing (no commitment stored, no sequence recorded), so the same bundle fixed is still accepted.
 */
import {
  COORDINATOR,
  createEnvelopeSealer,
  type IdentityKey,
  OFFLINE_PREPROCESS_SESSION,
  type Outgoing,
  sealBundle,
} from '@glacis/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningOrchestrator } from '../src/orchestrator/orchestrator.js';
import type { Store } from '../src/store/types.js';
import { type OfflineOrchestrator, offlineOrchestrator, POINT, person, rng } from './offline-orchestrator.js';

const [p1, p3, stranger] = [person(1), person(3), person(9)];

let store: Store;
let orch: RunningOrchestrator;
let keyId: string;
let world: OfflineOrchestrator;
beforeEach(async () => {
  world = offlineOrchestrator({ p1, p3 }, ['p3']);
  ({ store, orch } = world);
  keyId = 'key_1';
  await world.activeKey(keyId, ['p1', 'p3']);
});
afterEach(async () => {
  await world.close();
});

/** A bundle `from` signs (as `name`) carrying `messages`, each sealed by `signer` (default: the same). */
function bundle(
  name: string,
  from: IdentityKey,
  messages: Outgoing[],
  o: { sequence?: number; recipient?: string; signer?: IdentityKey } = {},
) {
  const sealer = createEnvelopeSealer(name, o.signer ?? from, 1);
  return sealBundle(
    {
      recipient: o.recipient ?? COORDINATOR,
      sequence: o.sequence ?? 10,
      createdAt: 0,
      items: messages.map((m) => ({ kind: 'envelope', envelope: sealer.seal(m) })),
    },
    { name, identity: from },
    rng,
  );
}
const preprocessed = (commitments = [{ hiding: POINT, binding: POINT }], key = keyId): Outgoing => ({
  type: 'commitments',
  sessionId: OFFLINE_PREPROCESS_SESSION,
  to: COORDINATOR,
  body: { keyId: key, commitments },
});

async function expectRefused(partyId: string, bytes: Uint8Array, code: string) {
  await expect(orch.offlineInbox(partyId, bytes)).rejects.toMatchObject({ code });
  expect(await store.countOfflineCommitments('p3', keyId)).toBe(0);
  expect(await store.lastInboxSequence('p3')).toBeUndefined();
}

describe('POST /v1/parties/{id}/inbox, attacked', () => {
  it('a bundle another configured party signed, posted to party-3’s inbox: bundle_unknown_sender', async () => {
    await expectRefused('p3', bundle('p1', p1, [preprocessed()]), 'bundle_unknown_sender');
  });

  it('a bundle claiming to be party-3’s, signed by a stranger: bundle_bad_signature', async () => {
    await expectRefused('p3', bundle('p3', stranger, [preprocessed()]), 'bundle_bad_signature');
  });

  it('a bundle for another recipient: bundle_wrong_recipient', async () => {
    await expectRefused('p3', bundle('p3', p3, [preprocessed()], { recipient: 'p1' }), 'bundle_wrong_recipient');
  });

  it('one damaged byte: bundle_bad_checksum', async () => {
    const b = bundle('p3', p3, [preprocessed()]);
    b[40] = (b[40] as number) ^ 1;
    await expectRefused('p3', b, 'bundle_bad_checksum');
  });

  it('an envelope inside sealed by someone else than the bundle’s sender: inbox_envelope_invalid', async () => {
    await expectRefused('p3', bundle('p3', p3, [preprocessed()], { signer: stranger }), 'inbox_envelope_invalid');
  });

  it('a message an offline party never sends (a commit request): inbox_unexpected_message', async () => {
    const ask: Outgoing = { type: 'commit_request', sessionId: 'x', to: COORDINATOR, body: { keyId, count: 1 } };
    await expectRefused('p3', bundle('p3', p3, [preprocessed(), ask]), 'inbox_unexpected_message');
  });

  it('a DKG message for a key whose committee party-3 is not in, or a dkg_start: inbox_unexpected_message; a signing answer addressed to a peer: inbox_envelope_invalid; its round 2 to a peer is taken', async () => {
    await world.activeKey('key_2', ['p1', 'p2']);
    const round1 = (key: string): Outgoing => ({
      type: 'dkg_round1',
      sessionId: `dkg-${key}`,
      to: '*',
      body: { paramsHash: '00'.repeat(32), commitment: [POINT], proofOfKnowledge: '00'.repeat(64) },
    });
    await expectRefused('p3', bundle('p3', p3, [preprocessed(), round1('key_2')]), 'inbox_unexpected_message');
    await expectRefused('p3', bundle('p3', p3, [preprocessed(), round1('key_none')]), 'inbox_unexpected_message');
    const start: Outgoing = {
      type: 'dkg_start',
      sessionId: `dkg-${keyId}`,
      to: COORDINATOR,
      body: { keyId, suite: 'ed25519', threshold: 2, committee: ['p1', 'p3'] },
    };
    await expectRefused('p3', bundle('p3', p3, [preprocessed(), start]), 'inbox_unexpected_message');
    // A signing answer addressed to a peer instead of the coordinator: refused.
    const share: Outgoing = {
      type: 'sign_refused',
      sessionId: 'sign-x-0-sig_1',
      to: 'p1',
      body: { keyId, requestId: 'sig_1', code: 'policy_denied', message: 'no' },
    };
    await expectRefused('p3', bundle('p3', p3, [preprocessed(), share]), 'inbox_envelope_invalid');
    // Its own key's DKG, round 1 to all and round 2 to a peer (relayed through the coordinator):
    // taken (and ignored by the driver, which runs no such DKG).
    const round2: Outgoing = {
      type: 'dkg_round2',
      sessionId: `dkg-${keyId}`,
      to: 'p1',
      body: { transcriptHash: '00'.repeat(32), box: { epk: '00'.repeat(32), nonce: '00'.repeat(12), ciphertext: '00'.repeat(48) } },
    };
    expect(await orch.offlineInbox('p3', bundle('p3', p3, [round1(keyId), round2]))).toMatchObject({ answers: 2 });
  });

  it('commitments for a key party-3 does not hold, an unknown key, or an invalid point: inbox_commitment_invalid', async () => {
    await world.activeKey('key_2', ['p1', 'p2']);
    await expectRefused('p3', bundle('p3', p3, [preprocessed(undefined, 'key_2')]), 'inbox_commitment_invalid');
    await expectRefused('p3', bundle('p3', p3, [preprocessed(undefined, 'key_other')]), 'inbox_commitment_invalid');
    await expectRefused('p3', bundle('p3', p3, [preprocessed([{ hiding: 'ff'.repeat(32), binding: POINT }])]), 'inbox_commitment_invalid');
  });

  it('an online party has no inbox (party_not_offline); an unknown one is not_found', async () => {
    await expect(orch.offlineInbox('p1', bundle('p1', p1, [preprocessed()]))).rejects.toMatchObject({ code: 'party_not_offline' });
    await expect(orch.offlineOutbox('nobody')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a sound bundle is stored once; the same bundle again, or an older one: bundle_replayed, nothing more stored', async () => {
    const b = bundle('p3', p3, [preprocessed()], { sequence: 10 });
    expect(await orch.offlineInbox('p3', b)).toEqual({ partyId: 'p3', sequence: 10, commitments: 1, answers: 0 });
    await expect(orch.offlineInbox('p3', b)).rejects.toMatchObject({ code: 'bundle_replayed' });
    await expect(orch.offlineInbox('p3', bundle('p3', p3, [preprocessed()], { sequence: 9 }))).rejects.toMatchObject({
      code: 'bundle_replayed',
    });
    expect(await store.countOfflineCommitments('p3', keyId)).toBe(1);
    expect(await store.lastInboxSequence('p3')).toBe(10);
  });
});
