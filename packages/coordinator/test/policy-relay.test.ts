/**
 * The policy relay's idea of the latest policy. With several instances it is fed from two sides:
 * `distribute` (a PUT on this instance) and `setLatest` (what the store held when a party's report
 * came in, possibly read before this instance's own PUT committed). A stale read must not move the
 * offer back to an older document, or parties would be offered a policy they must refuse.
 */
import { identityFromSeed, type Outgoing, parsePolicy, policyDigest, signPolicy } from '@glacis/protocol';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { createPolicyRelay, type OfferedPolicy } from '../src/orchestrator/policy-relay.js';
import type { Clock } from '../src/orchestrator/ports.js';

const admin = identityFromSeed(new Uint8Array(32).fill(0x71));
const clock: Clock = { now: () => 0, setTimeout: () => ({ cancel: () => undefined }) };

function offered(version: number): OfferedPolicy {
  const policy = parsePolicy({ version, rules: [{ id: 'deny-all', match: {}, decision: 'deny' }] });
  return { signed: { policy, signatures: [signPolicy(policy, admin)] }, version, digest: policyDigest(policy) };
}

function relay() {
  const sent: { to: string; version: number }[] = [];
  const r = createPolicyRelay({
    clock,
    logger: pino({ level: 'silent' }),
    link: {
      isConnected: () => true,
      sendSealed(to: string, out: Outgoing) {
        if (out.type === 'policy_offer') sent.push({ to, version: parsePolicy(out.body.signed.policy).version });
        return true;
      },
      forward: () => true,
    },
  });
  return { r, sent };
}

const staticV0 = { source: 'static', version: 0, digest: null, refused: null } as const;

describe('policy relay: the latest policy only moves forward', () => {
  test('a store read older than the policy distributed here does not move the offer back', () => {
    const { r, sent } = relay();
    r.distribute(offered(5));
    r.setLatest(offered(4)); // read before this instance's PUT of version 5 committed
    r.onStatus('p1', staticV0);
    expect(sent).toEqual([{ to: 'p1', version: 5 }]);
  });

  test('a store read newer than the one known here (another instance distributed it) is offered', () => {
    const { r, sent } = relay();
    r.setLatest(offered(2));
    r.setLatest(offered(3));
    r.onStatus('p1', staticV0);
    expect(sent).toEqual([{ to: 'p1', version: 3 }]);
  });
});
