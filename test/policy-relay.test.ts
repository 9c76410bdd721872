/**
 * Policy distribution with several coordinator instances: `PUT /v1/policy` lands on one instance,
 * while every party reports to all of them. An instance that did not take the PUT (and started
 * before it) must still offer the stored policy to a party that reports an older one, or a party
 * that was away when the PUT's instance offered it would never get it once that instance is gone.
 * Real party nodes (in-process, real WebSockets); the store is the one the instances share.
 */
import { identityFromSeed, parsePolicy, policyDigest, signPolicy, toHex } from '@glacis/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './support/eventually.js';
import { type InProcessCluster, startInProcessCluster } from './support/in-process-cluster.js';

let cluster: InProcessCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const admins = [0x65, 0x66].map((n) => identityFromSeed(new Uint8Array(32).fill(n)));
const NAMES = ['p1', 'p2'];

describe('a policy distributed through another coordinator instance', () => {
  it('is offered to a party when it next reports to this instance, and the party activates it', async () => {
    cluster = await startInProcessCluster(NAMES, {
      partyConfig: { policyAdmins: { keys: admins.map((a) => toHex(a.publicKey)), quorum: 2 } },
    });
    const c = cluster;
    await eventually(() => c.orchestrator.parties().every((p) => p.policy?.source === 'static'), 'every party to report its static policy');
    // Another instance stored (and offered) version 3 while p1 was away; this one never heard of it.
    const policy = parsePolicy({ version: 3, rules: [{ id: 'deny-all', match: {}, decision: 'deny' }] });
    const signed = { policy, signatures: admins.map((a) => signPolicy(policy, a)) };
    c.store.policy = { signed, version: 3, digest: policyDigest(policy) };
    await c.stopParty('p1');
    await c.startParty('p1');
    await eventually(
      () => c.orchestrator.parties().find((p) => p.partyId === 'p1')?.policy?.version === 3,
      'p1 to report version 3 in force',
    );
    expect(c.orchestrator.parties().find((p) => p.partyId === 'p1')?.policy).toMatchObject({
      source: 'signed',
      digest: policyDigest(policy),
    });
  });
});
