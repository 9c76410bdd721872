/**
 * A party node enforcing its own signed policy, driven by the test as its coordinator: policy
 * offers (activated, refused, kept across restarts), decisions on facts the party parsed itself
 * (a PSBT's destinations, its sighashes), velocity that no restart resets, and the hash-chained
 * decision log that records all of it.
 */
import {
  createAggregator,
  createSigner,
  fromHex,
  getSuite,
  type Intent,
  identityFromSeed,
  type KeyShare,
  type MessageBody,
  type Policy,
  parseNonceCommitment,
  parsePolicy,
  signingMessages,
  signPolicy,
  toHex,
  utf8,
  verifyAuditChain,
} from '@glacis/protocol';
import { schnorr } from '@noble/curves/secp256k1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { p2trDestination, p2wpkhDestination, taprootSpend } from '../../protocol/test/psbt-fixtures.js';
import { readDecisionLog } from '../src/policy/decision-log.js';
import { readShareLog } from '../src/share-log/share-log.js';
import { type Harness, nextSent, only, rng, startHarness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const admins = [0x65, 0x66, 0x67].map((n) => identityFromSeed(new Uint8Array(32).fill(n)));
const policyAdmins = { keys: admins.map((a) => toHex(a.publicKey)), quorum: 2 };
const signed = (p: Policy, by = admins.slice(0, 2)) => ({ policy: p, signatures: by.map((a) => signPolicy(p, a)) });

const shop = p2wpkhDestination(7);
const thief = p2trDestination('79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');

/** A party with pinned administrators, the key `k1` active (2-of-3, `suite`), and a signing helper. */
async function withKey(suite: 'ed25519' | 'secp256k1-tr' = 'ed25519') {
  const hh = await startHarness({ config: { policyAdmins, bitcoinNetwork: 'regtest' } });
  const { sessionId, confirmations, peerShares } = await hh.dkg('k1', 2, suite);
  hh.deliver({ type: 'dkg_complete', sessionId, to: 'p1', body: { keyId: 'k1', confirmations } });
  const peerShare = peerShares.get('p2') as KeyShare;
  const peer = createSigner(peerShare, rng);
  const publicKey = fromHex(peerShare.public.publicKey);
  let sessions = 0;
  /** Offers a signed policy; resolves with the party's report. */
  const offer = async (signedPolicy: unknown) => {
    hh.deliver({
      type: 'policy_offer',
      sessionId: 'policy',
      to: 'p1',
      body: { signed: signedPolicy as MessageBody<'policy_offer'>['signed'] },
    });
    const before = hh.policyReports().length;
    for (let i = 0; i < 500 && hh.policyReports().length === before; i++) await new Promise((r) => setTimeout(r, 2));
    return hh.policyReports().at(-1);
  };
  /** A signing package for `intent` with fresh commitments (one per message); resolves with the party's answer and the peer's shares. */
  const sign = async (requestId: string, intent: Intent, approvals: MessageBody<'signing_package'>['approvals'] = []) => {
    const messages = signingMessages(intent, { keyId: 'k1', suite, publicKey });
    hh.deliver({
      type: 'commit_request',
      sessionId: `c-${requestId}-${sessions}`,
      to: 'p1',
      body: { keyId: 'k1', count: messages.length },
    });
    const mine = only(hh.take(), 'commitments').commitments;
    const theirs = messages.map(() => peer.commit());
    const set = (cs: typeof mine) => ({ ...cs[0]!, ...(cs.length > 1 ? { more: cs.slice(1) } : {}) });
    const pkg: MessageBody<'signing_package'> = {
      keyId: 'k1',
      requestId,
      intent,
      approvals,
      commitments: [
        { partyId: 'p1', ...set(mine) },
        { partyId: 'p2', ...set(theirs) },
      ],
    };
    hh.deliver({ type: 'signing_package', sessionId: `s-${requestId}-${++sessions}`, to: 'p1', body: pkg });
    const [answer] = await nextSent(hh);
    return { answer, pkg, messages, commitments: { p1: mine, p2: theirs } };
  };
  return { hh, offer, sign, peer, peerShare, publicKey };
}

const allowShop = (version: number, extra: Partial<Policy> = {}) =>
  parsePolicy({
    version,
    rules: [
      { id: 'pay-shop', match: { intentTypes: ['bitcoin-psbt'], destinations: { allowlist: [shop.address] } }, decision: 'allow' },
      { id: 'raw-ok', match: { intentTypes: ['raw'] }, decision: 'allow' },
    ],
    ...extra,
  });

describe('policy offers at a party', () => {
  it('a quorum-signed policy is activated, reported, logged, and still in force after a restart', async () => {
    const k = await withKey();
    h = k.hh;
    expect(k.hh.policyReports()[0]).toMatchObject({ source: 'static', version: 1, digest: null, refused: null });
    const report = await k.offer(signed(allowShop(2)));
    expect(report).toMatchObject({ source: 'signed', version: 2, digest: expect.stringMatching(/^[0-9a-f]{64}$/), refused: null });
    await k.hh.restart();
    expect(k.hh.policyReports().at(-1)).toMatchObject({ source: 'signed', version: 2, digest: report?.digest });
    const { events } = readDecisionLog(k.hh.dataDir);
    expect(events.map((e) => e.type)).toEqual(['policy_activated']);
    expect(events[0]?.data).toMatchObject({ version: 2, signers: policyAdmins.keys.slice(0, 2).sort() });
  });

  it('a forged, under-signed, older or replayed policy is refused with its code; the policy in force stays', async () => {
    const k = await withKey();
    h = k.hh;
    await k.offer(signed(allowShop(3)));
    const forged = { ...signed(allowShop(4)), policy: allowShop(4, { rules: [{ id: 'all', match: {}, decision: 'allow' }] }) };
    expect(await k.offer(forged)).toMatchObject({ version: 3, refused: { version: 4, code: 'policy_bad_signature' } });
    expect(await k.offer(signed(allowShop(4), admins.slice(0, 1)))).toMatchObject({
      version: 3,
      refused: { code: 'policy_quorum_not_met' },
    });
    expect(await k.offer(signed(allowShop(2)))).toMatchObject({ version: 3, refused: { code: 'policy_downgrade' } });
    const sameVersion = parsePolicy({ version: 3, rules: [{ id: 'all', match: {}, decision: 'allow' }] });
    expect(await k.offer(signed(sameVersion))).toMatchObject({ version: 3, refused: { code: 'policy_version_replayed' } });
    const types = readDecisionLog(k.hh.dataDir).events.map((e) => e.type);
    expect(types).toEqual(['policy_activated', 'policy_refused', 'policy_refused', 'policy_refused', 'policy_refused']);
  });
});

describe('decisions at a party, on what it parsed itself', () => {
  it('a PSBT to an allowlisted address: the party signs each input’s sighash it computed; the shares aggregate to valid BIP-340 signatures', async () => {
    const k = await withKey('secp256k1-tr');
    h = k.hh;
    await k.offer(signed(allowShop(2)));
    const { intent } = taprootSpend(k.publicKey, [30_000n, 50_000n], [{ script: shop.script, amount: 70_000n }]);
    const { answer, pkg, messages, commitments } = await k.sign('r1', intent);
    expect(answer).toMatchObject({ type: 'signature_share' });
    const body = (answer as { body: MessageBody<'signature_share'> }).body;
    expect(body.more).toHaveLength(1);
    expect(body.next?.more).toHaveLength(1);
    // Aggregate with the peer's shares for the same package: the coordinator's side, checked by BIP-340.
    const suite = getSuite('secp256k1-tr');
    const agg = createAggregator({ key: k.peerShare.public, requestId: 'r1', intent, messages });
    agg.addCommitment(
      'p1',
      commitments.p1.map((c) => parseNonceCommitment(suite, c, 'p1')),
    );
    agg.addCommitment(
      'p2',
      commitments.p2.map((c) => parseNonceCommitment(suite, c, 'p2')),
    );
    agg.buildPackage(['p1', 'p2']);
    agg.addShare('p1', [body.share, ...(body.more ?? [])]);
    agg.addShare('p2', k.peer.sign(pkg, messages).shares.map(toHex));
    const sigs = agg.finish();
    sigs.forEach((sig, i) => {
      expect(schnorr.verify(sig, messages[i] as Uint8Array, k.publicKey)).toBe(true);
    });
    const [decision] = readDecisionLog(k.hh.dataDir).events.filter((e) => e.type === 'policy_decision');
    expect(decision?.data).toMatchObject({ decision: 'allow', ruleId: 'pay-shop', code: null, intentType: 'bitcoin-psbt' });
    expect(readShareLog(k.hh.dataDir).events.at(-1)?.data).toMatchObject({
      intentType: 'bitcoin-psbt',
      messageDigests: [expect.any(String), expect.any(String)],
    });
  });

  it('a PSBT paying an address off the allowlist is refused (policy_no_matching_rule) whatever the context claims; nothing is signed', async () => {
    const k = await withKey('secp256k1-tr');
    h = k.hh;
    await k.offer(signed(allowShop(2)));
    const { intent } = taprootSpend(k.publicKey, [80_000n], [{ script: thief.script, amount: 70_000n }]);
    const { answer } = await k.sign('r1', intent);
    expect(answer).toMatchObject({ type: 'sign_refused', body: { code: 'policy_no_matching_rule' } });
    expect(readShareLog(k.hh.dataDir).events).toHaveLength(0);
    const [decision] = readDecisionLog(k.hh.dataDir).events.filter((e) => e.type === 'policy_decision');
    expect(decision?.data).toMatchObject({ decision: 'deny', ruleId: null, code: 'policy_no_matching_rule', velocity: null });
    expect(verifyAuditChain(readDecisionLog(k.hh.dataDir).events).ok).toBe(true);
  });
});

describe('velocity at a party', () => {
  const oncePerDay = parsePolicy({
    version: 2,
    rules: [{ id: 'raw-ok', match: {}, decision: 'allow' }],
    velocity: [{ id: 'daily', windowSeconds: 86_400, maxCount: 1 }],
  });
  const raw = (text: string): Intent => ({ type: 'raw', message: toHex(utf8(text)) });

  it('a restart does not reset a window: the second request after it is refused (policy_velocity_exceeded)', async () => {
    const k = await withKey();
    h = k.hh;
    await k.offer(signed(oncePerDay));
    expect((await k.sign('r1', raw('one'))).answer).toMatchObject({ type: 'signature_share' });
    await k.hh.restart();
    expect((await k.sign('r2', raw('two'))).answer).toMatchObject({ type: 'sign_refused', body: { code: 'policy_velocity_exceeded' } });
    k.hh.clock.advance(86_400_000);
    expect((await k.sign('r3', raw('three'))).answer).toMatchObject({ type: 'signature_share' });
    expect(readShareLog(k.hh.dataDir).events).toHaveLength(2);
  });

  it('two packages handled back to back, before either is on disk, cannot both use the one slot left', async () => {
    const k = await withKey();
    h = k.hh;
    await k.offer(signed(oncePerDay));
    const pkgFor = (requestId: string, text: string): MessageBody<'signing_package'> => {
      k.hh.deliver({ type: 'commit_request', sessionId: `c-${requestId}`, to: 'p1', body: { keyId: 'k1', count: 1 } });
      const [mine] = only(k.hh.take(), 'commitments').commitments;
      return {
        keyId: 'k1',
        requestId,
        intent: raw(text),
        approvals: [],
        commitments: [
          { partyId: 'p1', ...mine! },
          { partyId: 'p2', ...k.peer.commit() },
        ],
      };
    };
    const a = pkgFor('ra', 'a');
    const b = pkgFor('rb', 'b');
    // Delivered in one go: the second is decided while the first's records are still being written.
    k.hh.deliver({ type: 'signing_package', sessionId: 's-ra', to: 'p1', body: a });
    k.hh.deliver({ type: 'signing_package', sessionId: 's-rb', to: 'p1', body: b });
    const answers: string[] = [];
    for (let i = 0; i < 500 && answers.length < 2; i++) {
      answers.push(...k.hh.take().map((m) => (m.type === 'sign_refused' ? m.body.code : m.type)));
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(answers.sort()).toEqual(['policy_velocity_exceeded', 'signature_share']);
    expect(readShareLog(k.hh.dataDir).events).toHaveLength(1);
  });

  it('the same request in a later session is signed again but counted once; another request is refused', async () => {
    const k = await withKey();
    h = k.hh;
    await k.offer(signed(oncePerDay));
    expect((await k.sign('r1', raw('pay'))).answer).toMatchObject({ type: 'signature_share' });
    expect((await k.sign('r1', raw('pay'))).answer).toMatchObject({ type: 'signature_share' });
    expect((await k.sign('r2', raw('pay'))).answer).toMatchObject({ type: 'sign_refused', body: { code: 'policy_velocity_exceeded' } });
    const decisions = readDecisionLog(k.hh.dataDir)
      .events.filter((e) => e.type === 'policy_decision')
      .map((e) => e.data);
    expect(decisions.map((d) => [(d as { repeat: boolean }).repeat, (d as { velocity: unknown }).velocity === null])).toEqual([
      [false, false],
      [true, true],
      [false, true],
    ]);
  });
});
