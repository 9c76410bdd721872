/**
 * A lifecycle operation through the orchestrator's outbox and inbox, on a key whose committee is
 * two offline parties (it runs on bundles alone), and the inbox attacked with lifecycle messages:
 * each defect refuses the whole bundle with its code and feeds nothing (nothing relayed to the
 * other vault, nothing taken out of the sender's outbox, no sequence recorded), so the same bundle
 * without it is still accepted and relayed.
 */
import {
  COORDINATOR,
  createEnvelopeSealer,
  type IdentityKey,
  MemoryBundleLedger,
  type Outgoing,
  openBundle,
  sealBundle,
} from '@glacis/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningOrchestrator } from '../src/orchestrator/orchestrator.js';
import type { Store } from '../src/store/types.js';
import { type OfflineOrchestrator, offlineOrchestrator, POINT, person, rng } from './offline-orchestrator.js';

const [p1, p3, p4] = [person(1), person(3), person(4)];

let store: Store;
let orch: RunningOrchestrator;
let world: OfflineOrchestrator;
beforeEach(async () => {
  world = offlineOrchestrator({ p1, p3, p4 }, ['p3', 'p4']);
  ({ store, orch } = world);
  await world.activeKey('key_1', ['p3', 'p4']);
  await world.activeKey('key_2', ['p1', 'p4']);
});
afterEach(async () => {
  await world.close();
});

async function refresh(operationId: string, keyId: string): Promise<void> {
  const op = { operationId, keyId, type: 'refresh' as const, params: {}, createdAt: new Date().toISOString(), requestedBy: 't' };
  expect(await store.createOperation(op)).toMatchObject({ created: true });
  orch.onOperationCreated(operationId);
}

/** What waits in `partyId`'s outbox, as `type:from`. */
async function outbox(partyId: string): Promise<string[]> {
  const out = await orch.offlineOutbox(partyId);
  if (!out.bundle) return [];
  const opened = openBundle(out.bundle, {
    self: partyId,
    keyOf: (n) => (n === COORDINATOR ? person(7).publicKey : undefined),
    ledger: new MemoryBundleLedger(),
  });
  return opened.items.flatMap((i) => (i.kind === 'envelope' ? [`${i.envelope.type}:${i.envelope.from}`] : []));
}

let sequence = 10;
/** A bundle of p3's, carrying `messages` each sealed as `name` by `signer` (default: p3 itself). */
function bundle(items: { out: Outgoing; name?: string; signer?: IdentityKey }[]): Uint8Array {
  return sealBundle(
    {
      recipient: COORDINATOR,
      sequence: ++sequence,
      createdAt: 0,
      // Each item its own, increasing sequence number: a bundle's envelopes are not replays of each other.
      items: items.map(({ out, name, signer }, i) => ({
        kind: 'envelope',
        envelope: createEnvelopeSealer(name ?? 'p3', signer ?? p3, i + 1).seal(out),
      })),
    },
    { name: 'p3', identity: p3 },
    rng,
  );
}

describe('a refresh of a key held by two vaults, through the orchestrator', () => {
  it('runs on bundles: both outboxes hold the start (listed under operationIds); a vault’s round 1 is relayed to the other vault and takes the start out of its own outbox', async () => {
    await refresh('op_r', 'key_1');
    for (let i = 0; i < 500 && (await outbox('p4')).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await outbox('p3')).toEqual(['refresh_start:coordinator']);
    expect(await orch.offlineOutbox('p4')).toMatchObject({ operationIds: ['op_r'], keyIds: [], signatureIds: [], items: 1 });
    const round1: Outgoing = { type: 'refresh_round1', sessionId: 'refresh-op_r', to: '*', body: { keyId: 'key_1', commitment: [POINT] } };
    expect(await orch.offlineInbox('p3', bundle([{ out: round1 }]))).toMatchObject({ answers: 1 });
    expect(await outbox('p4')).toEqual(['refresh_start:coordinator', 'refresh_round1:p3']);
    expect(await outbox('p3')).toEqual([]);
    expect((await store.getOperation('op_r'))?.status).toBe('pending');
  });
});

describe('POST /v1/parties/{id}/inbox with lifecycle messages, attacked', () => {
  const round1 = (sessionId = 'refresh-op_r', keyId = 'key_1'): Outgoing => ({
    type: 'refresh_round1',
    sessionId,
    to: '*',
    body: { keyId, commitment: [POINT] },
  });
  const round2 = (to: string): Outgoing => ({
    type: 'refresh_round2',
    sessionId: 'refresh-op_r',
    to,
    body: {
      keyId: 'key_1',
      transcriptHash: '00'.repeat(32),
      box: { epk: '00'.repeat(32), nonce: '00'.repeat(24), ciphertext: '00'.repeat(48) },
    },
  });

  async function expectRefused(hostile: { out: Outgoing; name?: string; signer?: IdentityKey }, code: string, why: string): Promise<void> {
    const before = [await outbox('p3'), await outbox('p4')];
    await expect(orch.offlineInbox('p3', bundle([{ out: round1() }, hostile]))).rejects.toMatchObject({
      code,
      message: expect.stringContaining(why),
    });
    expect([await outbox('p3'), await outbox('p4')]).toEqual(before);
    expect(await store.lastInboxSequence('p3')).toBeUndefined();
  }

  it('each defect refuses the bundle with its code and feeds nothing; the same bundle without it is relayed', async () => {
    await refresh('op_r', 'key_1');
    // key_2's refresh fails at once (p1 is not connected): p3 took no part in it.
    await refresh('op_other', 'key_2');
    expect(await store.waitForSettled('operation', 'op_other', 10_000)).toBe(true);
    for (let i = 0; i < 500 && (await outbox('p4')).length === 0; i++) await new Promise((r) => setTimeout(r, 10));

    // An operation it takes no part in, one that does not exist, a message of another kind of operation, another key.
    await expectRefused({ out: round1('refresh-op_other', 'key_2') }, 'inbox_unexpected_message', 'p3 takes no part in refresh op_other');
    await expectRefused({ out: round1('refresh-op_none') }, 'inbox_unexpected_message', 'p3 takes no part in refresh op_none');
    const commit: Outgoing = {
      type: 'repair_commit',
      sessionId: 'refresh-op_r',
      to: '*',
      body: { keyId: 'key_1', target: 'p4', commitments: { p3: POINT } },
    };
    await expectRefused({ out: commit }, 'inbox_unexpected_message', 'a repair_commit is not');
    await expectRefused({ out: round1('refresh-op_r', 'key_2') }, 'inbox_unexpected_message', 'names another key');
    // A forged sender: the other vault's envelope, or one that claims to be the other vault's.
    await expectRefused({ out: round2('p3'), name: 'p4', signer: p4 }, 'inbox_envelope_invalid', 'unknown_party');
    await expectRefused({ out: round2('p3'), name: 'p4', signer: p3 }, 'inbox_envelope_invalid', 'unknown_party');
    // Addressed to no participant, or a message for the coordinator addressed to a peer.
    await expectRefused({ out: round2('p1') }, 'inbox_envelope_invalid', 'wrong_recipient');
    const commitment: Outgoing = {
      type: 'lifecycle_test_commitment',
      sessionId: 'refresh-op_r',
      to: 'p4',
      body: { keyId: 'key_1', commitment: { hiding: POINT, binding: POINT } },
    };
    await expectRefused({ out: commitment }, 'inbox_envelope_invalid', 'wrong_recipient');

    expect(await orch.offlineInbox('p3', bundle([{ out: round1() }, { out: round2('p4') }]))).toMatchObject({ answers: 2 });
    expect(await outbox('p4')).toEqual(['refresh_start:coordinator', 'refresh_round1:p3', 'refresh_round2:p3']);
  });
});
