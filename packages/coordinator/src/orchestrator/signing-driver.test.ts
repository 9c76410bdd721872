/**
 * The signing driver parses a party's commitments where they enter (its `commitments` message,
 * for a request or for the pool): an invalid one excludes its sender from the request, or never
 * enters the pool; valid ones reach ROAST parsed. Plain doubles for the link, store and clock; real
 * protocol signers on a dealer key.
 */
import { randomBytes } from 'node:crypto';
import {
  createSigner,
  type Envelope,
  getSuite,
  type Message,
  type MessageBody,
  makeKeyShare,
  type Outgoing,
  type Signer,
  toHex,
} from '@glacis/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Clock, OrchestratorMetrics, PartyLink } from './ports.js';
import { createSigningDriver } from './signing-driver.js';
import type { AuditRecord, KeyRow, OrchestratorStore, SignatureRow } from './store-port.js';

const rng = (n = 32) => new Uint8Array(randomBytes(n));
const PARTIES = ['alice', 'bob', 'carol'];
/** An encoding of the identity element: never a valid commitment. */
const IDENTITY = `01${'00'.repeat(31)}`;

function dealerKey() {
  const suite = getSuite('ed25519');
  const ids = PARTIES.map((p) => suite.identifierFor(p));
  const deal = suite.frost.trustedDealer({ min: 2, max: 3 }, ids, undefined, rng);
  const key: KeyRow = {
    keyId: 'key-1',
    suite: 'ed25519',
    threshold: 2,
    parties: PARTIES,
    status: 'active',
    publicKey: toHex(suite.encodePublicKey(deal.public)),
    verifyingShares: Object.fromEntries(PARTIES.map((p, i) => [p, toHex(deal.public.verifyingShares[ids[i] as string] as Uint8Array)])),
    groupCommitment: deal.public.commitments.map(toHex),
    certificate: [],
    error: null,
  };
  const pkg = { ...key, committee: PARTIES, publicKey: key.publicKey as string, groupCommitment: key.groupCommitment as string[] };
  const signers = new Map<string, Signer>(
    PARTIES.map((p, i) => [
      p,
      createSigner(makeKeyShare(pkg, p, (deal.secretShares[ids[i] as string] as { signingShare: Uint8Array }).signingShare), rng),
    ]),
  );
  return { key, signers };
}

function world(poolTarget: number) {
  const { key, signers } = dealerKey();
  const request: SignatureRow = {
    signatureId: 'sig-1',
    keyId: key.keyId,
    message: toHex(Buffer.from('pay 5')),
    context: null,
    approvals: [],
    status: 'pending',
    deadline: new Date(Date.now() + 60_000).toISOString(),
  };
  const sent: { to: string; out: Outgoing }[] = [];
  const excluded: { partyId: string; reason: string; audit?: AuditRecord }[] = [];
  let completed: { signature: string; signers: string[] } | undefined;
  const store = {
    getKey: () => key,
    getSignature: (id: string) => (id === request.signatureId ? request : undefined),
    markSigning: () => undefined,
    addExcluded: (_: string, e: { partyId: string; reason: string }, audit?: AuditRecord) => {
      excluded.push({ ...e, ...(audit ? { audit } : {}) });
    },
    completeSignature: (_: string, v: { signature: string; signers: string[] }) => {
      completed = v;
    },
    failSignature: () => undefined,
    rejectSignature: () => undefined,
  } as unknown as OrchestratorStore;
  const link: PartyLink = {
    isConnected: () => true,
    sendSealed: (to, out) => {
      sent.push({ to, out });
      return true;
    },
    forward: () => true,
  };
  const clock: Clock = { now: () => 1_000, setTimeout: () => ({ cancel: () => undefined }) };
  const metrics = { sessionEnded() {}, partyExcluded() {}, partyLatency() {} } as unknown as OrchestratorMetrics;
  const driver = createSigningDriver({
    store,
    link,
    clock,
    logger: pino({ level: 'silent' }),
    metrics,
    requestTimeoutMs: 60_000,
    poolTarget,
  });
  let seq = 0;
  const deliver = (from: string, type: Message['type'], sessionId: string, body: unknown) =>
    driver.onMessage(from, { type, sessionId, from, to: 'coordinator', seq: ++seq, body } as Message, {} as Envelope);
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { key, signers, request, sent, excluded, driver, deliver, settle, completed: () => completed };
}

type Sent<T extends Outgoing['type']> = { to: string; out: Extract<Outgoing, { type: T }> };
const ofType = <T extends Outgoing['type']>(sent: { to: string; out: Outgoing }[], type: T) =>
  sent.filter((s): s is Sent<T> => s.out.type === type);

describe('signing driver: commitments are parsed where they enter', () => {
  it('a party’s commitment with an invalid point excludes it (invalid_point); the other two sign', async () => {
    const w = world(0);
    await w.driver.start(w.request.signatureId);
    for (const { to, out } of ofType(w.sent, 'commit_request')) {
      const wire = (w.signers.get(to) as Signer).commit();
      const c = to === 'carol' ? { ...wire, hiding: IDENTITY } : wire;
      w.deliver(to, 'commitments', out.sessionId, { keyId: w.key.keyId, commitments: [c] });
    }
    await w.settle();
    expect(w.excluded).toEqual([expect.objectContaining({ partyId: 'carol', reason: expect.stringMatching(/^invalid_point: /) })]);
    const packages = ofType(w.sent, 'signing_package');
    expect(packages.map((p) => p.to).sort()).toEqual(['alice', 'bob']);
    for (const { to, out } of packages) {
      const share = toHex((w.signers.get(to) as Signer).sign(out.body as MessageBody<'signing_package'>).share);
      w.deliver(to, 'signature_share', out.sessionId, { keyId: w.key.keyId, requestId: w.request.signatureId, share, next: null });
    }
    await w.settle();
    expect(w.completed()?.signers).toEqual(['alice', 'bob']);
  });

  it('a pool refill keeps only the valid commitments: the next request starts from them without asking again', async () => {
    const w = world(2);
    await w.driver.start(w.request.signatureId);
    const refills = ofType(w.sent, 'commit_request').filter((s) => s.out.sessionId.startsWith('pool-'));
    expect(refills.map((r) => r.to).sort()).toEqual([...PARTIES].sort());
    for (const { to, out } of refills) {
      const signer = w.signers.get(to) as Signer;
      const commitments = Array.from({ length: out.body.count }, () => signer.commit());
      // bob's whole refill is bad; alice's and carol's are good.
      const sent = to === 'bob' ? commitments.map((c) => ({ ...c, binding: IDENTITY })) : commitments;
      w.deliver(to, 'commitments', out.sessionId, { keyId: w.key.keyId, commitments: sent });
    }
    await w.settle();
    // A second request for the same key (the store now answers for sig-2) starts from the pool.
    w.sent.length = 0;
    w.request.signatureId = 'sig-2';
    await w.driver.start('sig-2');
    const asked = ofType(w.sent, 'commit_request').filter((s) => !s.out.sessionId.startsWith('pool-'));
    // alice and carol came from the pool; only bob, whose commitments were dropped, is asked.
    expect(asked.map((s) => s.to)).toEqual(['bob']);
    expect(
      ofType(w.sent, 'signing_package')
        .map((p) => p.to)
        .sort(),
    ).toEqual(['alice', 'carol']);
  });
});
