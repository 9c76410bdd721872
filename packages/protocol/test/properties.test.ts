/**
 * Property tests over random committees, for every suite: a DKG through the state machines, then
 * signing by a random subset of at least t parties; the signature verifies under the suite's
 * verifier and under an independent one where it exists. The DKG's own traffic then serves as
 * the corpus for envelope tampering (one changed character or bit → the right code) and replays.
 * fast-check prints the seed and the shrunk counterexample of any failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BROADCAST,
  type Envelope,
  fromHex,
  isProtocolError,
  openEnvelope,
  ReplayGuard,
  SUITE_IDS,
  type SuiteId,
  verifyDkgCertificate,
} from '../src/index.js';
import { independentVerifier } from './external-verifiers.js';
import { cluster, expectCode, publicKeyBytes, sign } from './harness.js';
import { type MutationSpec, mutateEnvelope } from './mutate-envelope.js';

/**
 * The simulated DKG runs all n parties in one thread and costs about n²·t subgroup checks, so runs
 * are few (each signs twice) and ed448, several times slower than the others, keeps n ≤ 5.
 */
const MAX_N: Record<SuiteId, number> = { ed25519: 10, 'secp256k1-tr': 10, ed448: 5, secp256k1: 10, p256: 10, ristretto255: 10 };
const RUNS: Record<SuiteId, number> = { ed25519: 2, 'secp256k1-tr': 3, ed448: 2, secp256k1: 3, p256: 2, ristretto255: 4 };

const mutationArb: fc.Arbitrary<MutationSpec> = fc.record({
  field: fc.nat(),
  pick: fc.nat(),
  char: fc.nat(),
  bit: fc.nat(),
});

function committeeArb(id: SuiteId) {
  return fc.integer({ min: 2, max: MAX_N[id] }).chain((n) =>
    fc.integer({ min: 2, max: n }).chain((t) =>
      fc.record({
        n: fc.constant(n),
        t: fc.constant(t),
        // Two signing sessions, each by any subset of size ≥ t.
        sessions: fc.array(
          fc.record({
            signers: fc.shuffledSubarray([...Array(n).keys()], { minLength: t }),
            // BIP-340 signers sign a 32-byte digest (the only length libsecp256k1 takes).
            message:
              id === 'secp256k1-tr' ? fc.uint8Array({ minLength: 32, maxLength: 32 }) : fc.uint8Array({ minLength: 1, maxLength: 80 }),
          }),
          { minLength: 2, maxLength: 2 },
        ),
        mutations: fc.array(fc.tuple(fc.nat(), mutationArb), { minLength: 12, maxLength: 12 }),
        replayed: fc.nat(),
      }),
    ),
  );
}

/** Who opens `env` in these checks: its recipient, or for a broadcast a member other than the sender. */
function openerOf(env: Envelope, names: readonly string[]): string {
  return env.to === BROADCAST ? (names.find((n) => n !== env.from) as string) : env.to;
}

for (const id of SUITE_IDS) {
  describe(`${id}: random t-of-n`, () => {
    it(`DKG, sign by ≥ t, verify; tampered envelopes and replays are refused (n ≤ ${MAX_N[id]})`, () => {
      const independent = independentVerifier(id);
      fc.assert(
        fc.property(committeeArb(id), ({ n, t, sessions, mutations, replayed }) => {
          const c = cluster(id, n, t);
          // Every member derived the same public key package, and the certificate proves it.
          for (const name of c.names) expect(c.share(name).public).toEqual(c.pub);
          const exp = { keyId: c.pub.keyId, suite: id, threshold: t, committee: c.names, keyOf: c.world.keyOf };
          expect(verifyDkgCertificate(c.run.confirmations, exp)).toEqual(c.pub);

          const pk = publicKeyBytes(c);
          for (const { signers, message } of sessions) {
            const sig = sign(
              c,
              signers.map((i) => c.names[i] as string),
              message,
            );
            expect(sig.length).toBe(c.suite.signatureLength);
            expect(c.suite.verify(sig, message, pk)).toBe(true);
            if (independent) expect(independent(sig, message, pk)).toBe(true);
          }

          const log = c.run.log;
          const isPinned = (name: string) => c.world.keyOf(name) !== undefined;
          for (const [which, spec] of mutations) {
            const env = log[which % log.length] as Envelope;
            const self = openerOf(env, c.names);
            const open = (raw: unknown) => openEnvelope(raw, { self, keyOf: c.world.keyOf, replay: new ReplayGuard() });
            expect(open(structuredClone(env)).from).toBe(env.from);
            const m = mutateEnvelope(env, spec, isPinned);
            let code: string | undefined;
            try {
              open(m.envelope);
            } catch (e) {
              code = isProtocolError(e) ? e.code : `non-protocol error ${String(e)}`;
            }
            expect({ site: m.site, code }).toEqual({ site: m.site, code: m.expected });
          }

          // Each party's replay guard already saw every envelope addressed to it.
          const delivered = log.filter((e) => e.to !== 'coordinator');
          const again = delivered[replayed % delivered.length] as Envelope;
          expectCode(() => c.world.open(openerOf(again, c.names), again), 'replayed_message');
          const confirmation = c.run.confirmations[replayed % n] as Envelope;
          c.world.open('coordinator', confirmation);
          expectCode(() => c.world.open('coordinator', confirmation), 'replayed_message');
          expect(fromHex(c.pub.publicKey).length).toBe(c.suite.publicKeyLength);
        }),
        { numRuns: RUNS[id] },
      );
    }, 120_000);
  });
}
