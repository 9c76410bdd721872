/**
 * The coordinator cannot route around any party's policy. Real party nodes (in-process, real
 * WebSockets) enforce a quorum-signed policy the coordinator distributed; the coordinator here
 * skips its own approval check (requests go straight to its signing machine) or is the test
 * itself, holding the coordinator's identity key. Each attempt — no approvals, a forged approval,
 * an approval replayed from another request, an approval of another PSBT, an approval under a
 * stale policy version, a package with no approvals sent by hand — ends in the parties' refusal
 * code, with no share released (their share logs) and the refusal in their decision logs.
 */
import { randomBytes } from 'node:crypto';
import {
  type Approval,
  approvalDigest,
  createEnvelopeSealer,
  fromHex,
  type Intent,
  identityFromSeed,
  type Message,
  type Policy,
  parsePolicy,
  policyDigest,
  signPolicy,
  toHex,
} from '@glacis/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { readDecisionLog, verifyDecisionLog } from '../packages/party-node/src/policy/decision-log.js';
import { readShareLog } from '../packages/party-node/src/share-log/share-log.js';
import { p2wpkhDestination, taprootSpend } from '../packages/protocol/test/psbt-fixtures.js';
import { eventually } from './support/eventually.js';
import { type InProcessCluster, startInProcessCluster } from './support/in-process-cluster.js';

let cluster: InProcessCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const person = (n: number) => identityFromSeed(new Uint8Array(32).fill(n));
const admins = [person(0x65), person(0x66), person(0x67)];
const [alice, bob, mallory] = [person(1), person(2), person(9)];
const hex = (p: ReturnType<typeof person>) => toHex(p.publicKey);
const shop = p2wpkhDestination(11);
const NAMES = ['p1', 'p2', 'p3'];

/** A PSBT to the shop needs one treasury approval; anything else is denied by default. */
const doc = (version: number): Policy =>
  parsePolicy({
    version,
    approverGroups: { treasury: [hex(alice), hex(bob)] },
    rules: [
      {
        id: 'shop-with-approval',
        match: { intentTypes: ['bitcoin-psbt'], destinations: { allowlist: [shop.address] } },
        decision: 'require',
        approvals: [{ group: 'treasury', min: 1 }],
      },
    ],
  });

async function setup() {
  const seen: { partyId: string; msg: Message }[] = [];
  cluster = await startInProcessCluster(NAMES, {
    partyConfig: { policyAdmins: { keys: admins.map(hex), quorum: 2 }, bitcoinNetwork: 'regtest' },
    faults: {
      inbound(partyId, msg) {
        seen.push({ partyId, msg });
        return true;
      },
    },
  });
  const c = cluster;
  c.store.addKey('k1', 'secp256k1-tr', 2, NAMES);
  c.orchestrator.onKeyCreated('k1');
  await c.store.until(() => c.store.keys.get('k1')?.status === 'active');
  const publicKey = fromHex(c.store.keys.get('k1')?.publicKey as string);
  let n = 0;
  /** Distributes `p` and waits until every party reports it in force. */
  const distribute = async (p: Policy) => {
    const signed = { policy: p, signatures: admins.slice(0, 2).map((a) => signPolicy(p, a)) };
    c.store.policy = { signed, version: p.version, digest: policyDigest(p) };
    c.orchestrator.onPolicyDistributed(c.store.policy);
    await eventually(() => c.orchestrator.parties().every((s) => s.policy?.version === p.version), `every party on v${p.version}`);
  };
  /** A spend of this key's coins to the shop (a fresh transaction each time). */
  const spend = (): Intent => taprootSpend(publicKey, [60_000n], [{ script: shop.script, amount: 50_000n }], ++n).intent;
  const approve = (who: ReturnType<typeof person>, intent: Intent, policyVersion = 2): Approval => {
    const terms = { policyVersion, nonce: toHex(randomBytes(16)), expiresAt: new Date(Date.now() + 3_600_000).toISOString() };
    const digest = approvalDigest({ keyId: 'k1', intent, context: null, ...terms });
    return { approverKey: hex(who), signature: toHex(who.sign(digest)), ...terms };
  };
  /** Runs a request through the coordinator's signing machine as given (no REST check): its settled row. */
  const run = async (id: string, intent: Intent, approvals: Approval[]) => {
    c.store.addSignature(id, 'k1', intent, approvals);
    c.orchestrator.onSignatureRequested(id);
    await c.store.until(() => ['completed', 'failed', 'rejected'].includes(c.store.signatures.get(id)?.status ?? ''));
    return c.store.signatures.get(id) as NonNullable<ReturnType<typeof c.store.signatures.get>>;
  };
  const released = () => NAMES.map((p) => readShareLog(c.parties.get(p)?.dataDir as string).events.length);
  const refusals = (requestId: string) =>
    NAMES.flatMap((p) =>
      readDecisionLog(c.parties.get(p)?.dataDir as string)
        .events.filter((e) => e.type === 'policy_decision' && (e.data as { requestId: string }).requestId === requestId)
        .map((e) => (e.data as { code: string | null }).code),
    );
  await distribute(doc(2));
  return { c, seen, distribute, spend, approve, run, released, refusals };
}

/** Every party that was asked refused with `code`: the request is rejected, nothing is signed. */
function expectRefusedBy(row: { status: string; excluded: { partyId: string; reason: string }[] }, code: string) {
  expect(row.status).toBe('rejected');
  expect(row.excluded.length).toBeGreaterThanOrEqual(2);
  for (const e of row.excluded) expect(e.reason).toMatch(new RegExp(`^${code}: `));
}

describe('a coordinator routing around the parties’ policy', () => {
  it('sends the package without the approvals the policy requires: policy_approvals_missing, nothing signed', async () => {
    const { run, spend, released, refusals } = await setup();
    const row = await run('s1', spend(), []);
    expectRefusedBy(row, 'policy_approvals_missing');
    expect(released()).toEqual([0, 0, 0]);
    expect(refusals('s1').length).toBeGreaterThanOrEqual(2);
    expect(new Set(refusals('s1'))).toEqual(new Set(['policy_approvals_missing']));
  });

  it('adds a forged approval (an approver key it does not hold, signed by another): nothing counts, nothing signed', async () => {
    const { run, spend, approve, released } = await setup();
    const intent = spend();
    const forged = { ...approve(mallory, intent), approverKey: hex(alice) };
    expectRefusedBy(await run('s1', intent, [forged]), 'policy_approvals_missing');
    expect(released()).toEqual([0, 0, 0]);
  });

  it('replays an approval counted for another request: policy_approval_reused, nothing more signed', async () => {
    const { run, spend, approve, released } = await setup();
    const intent = spend();
    const approval = approve(alice, intent);
    const first = await run('s1', intent, [approval]);
    expect(first.status, JSON.stringify(first.excluded)).toBe('completed');
    const after = released();
    expect(after.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(2);
    expectRefusedBy(await run('s2', intent, [approval]), 'policy_approval_reused');
    expect(released()).toEqual(after);
  });

  it('presents the approval of one PSBT with another PSBT: it verifies over nothing, nothing signed', async () => {
    const { run, spend, approve, released } = await setup();
    const approved = spend();
    const other = spend();
    expectRefusedBy(await run('s1', other, [approve(alice, approved)]), 'policy_approvals_missing');
    expect(released()).toEqual([0, 0, 0]);
  });

  it('presents an approval under a policy version the parties no longer have in force: policy_version_mismatch', async () => {
    const { run, spend, approve, distribute, released } = await setup();
    const intent = spend();
    const stale = approve(alice, intent, 2);
    await distribute(doc(3));
    expectRefusedBy(await run('s1', intent, [stale]), 'policy_version_mismatch');
    expect(released()).toEqual([0, 0, 0]);
    // The same approver, under the version in force, is enough.
    expect((await run('s2', intent, [approve(alice, intent, 3)])).status).toBe('completed');
  });

  it('sends a package by hand, as the coordinator, without approvals: the party refuses it and logs the refusal', async () => {
    const { c, seen, spend, released } = await setup();
    const hostile = createEnvelopeSealer('coordinator', c.coordinatorIdentity, Date.now() * 1000 + 1e9);
    c.orchestrator.sendEnvelope(
      'p1',
      hostile.seal({ type: 'commit_request', sessionId: 'evil-c', to: 'p1', body: { keyId: 'k1', count: 1 } }),
    );
    await eventually(() => seen.some((s) => s.msg.sessionId === 'evil-c'), "p1's commitment");
    const mine = seen.find((s) => s.msg.sessionId === 'evil-c')?.msg.body as { commitments: { hiding: string; binding: string }[] };
    c.orchestrator.sendEnvelope(
      'p2',
      hostile.seal({ type: 'commit_request', sessionId: 'evil-c2', to: 'p2', body: { keyId: 'k1', count: 1 } }),
    );
    await eventually(() => seen.some((s) => s.msg.sessionId === 'evil-c2'), "p2's commitment");
    const theirs = seen.find((s) => s.msg.sessionId === 'evil-c2')?.msg.body as { commitments: { hiding: string; binding: string }[] };
    const body = {
      keyId: 'k1',
      requestId: 'evil',
      intent: spend(),
      approvals: [],
      commitments: [
        { partyId: 'p1', ...mine.commitments[0]! },
        { partyId: 'p2', ...theirs.commitments[0]! },
      ],
    };
    c.orchestrator.sendEnvelope('p1', hostile.seal({ type: 'signing_package', sessionId: 'evil-s', to: 'p1', body }));
    await eventually(() => seen.some((s) => s.msg.sessionId === 'evil-s'), "p1's answer");
    expect(seen.find((s) => s.msg.sessionId === 'evil-s')?.msg).toMatchObject({
      type: 'sign_refused',
      body: { code: 'policy_approvals_missing' },
    });
    expect(released()).toEqual([0, 0, 0]);
    const decision = readDecisionLog(c.parties.get('p1')?.dataDir as string).events.find(
      (e) => (e.data as { requestId?: string }).requestId === 'evil',
    );
    expect(decision?.data).toMatchObject({
      decision: 'require',
      ruleId: 'shop-with-approval',
      code: 'policy_approvals_missing',
      velocity: null,
    });
    expect(verifyDecisionLog(c.parties.get('p1')?.dataDir as string).ok).toBe(true);
  });
});

describe('requests awaiting approval at the coordinator', () => {
  it('one still waiting at its approval deadline fails with approval_timeout; one released is signed', async () => {
    const { c, spend, approve } = await setup();
    c.store.addSignature('late', 'k1', spend(), [], { status: 'awaiting_approval', deadline: Date.now() + 300 });
    c.orchestrator.onSignatureRequested('late');
    await c.store.until(() => c.store.signatures.get('late')?.status === 'failed');
    expect(c.store.signatures.get('late')?.error).toMatchObject({ code: 'approval_timeout' });

    const intent = spend();
    c.store.addSignature('ok', 'k1', intent, [approve(bob, intent)], { status: 'awaiting_approval', deadline: Date.now() + 60_000 });
    c.orchestrator.onSignatureRequested('ok');
    c.store.release('ok');
    c.orchestrator.onSignatureRequested('ok');
    await c.store.until(() => ['completed', 'failed', 'rejected'].includes(c.store.signatures.get('ok')?.status ?? ''));
    const ok = c.store.signatures.get('ok');
    expect(ok?.status, JSON.stringify(ok?.excluded)).toBe('completed');
    expect(ok?.finalized?.transactionHex).toMatch(/^[0-9a-f]+$/);
  });
});
