/**
 * The published key-lifecycle vectors (docs/vectors/): the code still makes them byte for byte
 * (`node scripts/lifecycle-vectors.mjs` rewrites them after a deliberate change), and each file
 * holds up on its own, read as another implementation would read it: every envelope verifies
 * under the identity keys the file lists, every box opens to the plaintext it lists, every new
 * share follows from the inputs and the plaintexts, the certificate confirms the output key, and
 * the signature verifies under the ORIGINAL public key.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import {
  fromHex,
  getSuite,
  identityFromSeed,
  keyPackageHash,
  makeKeyShare,
  openBox,
  openEnvelope,
  type Suite,
  toHex,
  verifyLifecycleCertificate,
} from '../src/index.js';
import { lagrangeCoefficient } from '../src/lifecycle/lagrange.js';
import { independentVerifier } from './external-verifiers.js';
import { buildLifecycleVectors, type LifecycleVector } from './lifecycle-vectors.js';

vi.setConfig({ testTimeout: 300_000 });

const DIR = fileURLToPath(new URL('../../../docs/vectors/', import.meta.url));
const published = (path: string) => readFileSync(join(DIR, path), 'utf8');
const files = readdirSync(DIR, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.split('\\').join('/'))
  .sort();

describe('docs/vectors are what the code makes', () => {
  const built = buildLifecycleVectors();

  it('the same files, at least ed25519 and secp256k1-tr, each operation', () => {
    expect([...built.keys()].sort()).toEqual(files);
    for (const suite of ['ed25519', 'secp256k1-tr']) {
      for (const op of ['refresh', 'repair', 'reshare']) expect(files).toContain(`${suite}/${op}.json`);
    }
  });

  for (const [path, text] of built) {
    it(`${path}: byte for byte`, () => {
      expect(published(path)).toBe(text);
    });
  }
});

/** y(at) for the polynomial through `points` (as many points as its degree + 1). */
function interpolate(suite: Suite, points: readonly (readonly [bigint, bigint])[], at: bigint): bigint {
  const xs = points.map(([x]) => x);
  return points.reduce((acc, [x, y]) => suite.Fn.add(acc, suite.Fn.mul(y, lagrangeCoefficient(suite, xs, x, at))), suite.Fn.create(0n));
}

describe('each published vector holds up on its own', () => {
  for (const path of files) {
    it(path, () => {
      const v = JSON.parse(published(path)) as LifecycleVector;
      const suite = getSuite(v.suite);
      const { Fn } = suite;
      const scalar = (hex: string) => Fn.fromBytes(fromHex(hex));
      const x = (p: string) => scalar(v.inputs.parties[p]?.identifier as string);
      const keyOf = (p: string) => (v.inputs.parties[p] ? fromHex(v.inputs.parties[p].identityKey) : undefined);
      for (const [p, party] of Object.entries(v.inputs.parties)) {
        const identity = identityFromSeed(fromHex(party.identitySeed));
        expect(toHex(identity.publicKey)).toBe(party.identityKey);
        expect(suite.identifierFor(p)).toBe(party.identifier);
      }
      expect(keyPackageHash(v.inputs.key)).toBe(v.inputs.keyHash);

      // Every message is a validly signed envelope of its sender, in the session.
      for (const env of v.messages) {
        expect(openEnvelope(env, { self: env.to, keyOf, anyRecipient: true }).sessionId).toBe(v.inputs.sessionId);
      }
      // Every box opens, for its recipient, to the listed plaintext.
      const boxes = v.messages.map((e, i) => [i, e] as const).filter(([, e]) => (e.body as { box?: unknown }).box !== undefined);
      expect(v.plaintexts.map((p) => p.message)).toEqual(boxes.map(([i]) => i));
      for (const p of v.plaintexts) {
        const env = v.messages[p.message] as (typeof v.messages)[number];
        const box = (env.body as { box: { epk: string; nonce: string; ciphertext: string } }).box;
        const identity = identityFromSeed(fromHex(v.inputs.parties[p.to]?.identitySeed as string));
        const ctx = { suite: v.suite, sessionId: env.sessionId, round: env.type, from: env.from, to: env.to };
        expect(
          toHex(openBox({ epk: fromHex(box.epk), nonce: fromHex(box.nonce), ciphertext: fromHex(box.ciphertext) }, identity, ctx)),
        ).toBe(p.value);
      }
      const sent = (type: string, from: string, to: string) =>
        scalar(v.plaintexts.find((p) => p.type === type && p.from === from && p.to === to)?.value as string);

      // Every new share follows from the inputs and the plaintexts.
      if (v.operation === 'refresh') {
        const members = v.inputs.key.committee;
        for (const j of members) {
          // j's own f_j(x_j) never travels: f_j has f_j(0) = 0 and is fixed by what j sent the others.
          const others = members.filter((m) => m !== j);
          const own = interpolate(
            suite,
            [[0n, 0n] as const, ...others.map((m) => [x(m), sent('refresh_round2', j, m)] as const)].slice(0, v.inputs.key.threshold),
            x(j),
          );
          const received = others.reduce((a, i) => Fn.add(a, sent('refresh_round2', i, j)), Fn.create(0n));
          expect(toHex(Fn.toBytes(Fn.add(Fn.add(scalar(v.inputs.shares[j] as string), own), received)))).toBe(v.outputs.shares[j]);
        }
      } else if (v.operation === 'reshare') {
        const { dealers, committee, threshold } = v.inputs.params as { dealers: string[]; committee: string[]; threshold: number };
        for (const j of committee) {
          let s = Fn.create(0n);
          for (const d of dealers) {
            if (d !== j) {
              s = Fn.add(s, sent('reshare_round2', d, j));
              continue;
            }
            const points = committee.filter((m) => m !== d).map((m) => [x(m), sent('reshare_round2', d, m)] as const);
            s = Fn.add(s, interpolate(suite, points.slice(0, threshold), x(d)));
          }
          expect(toHex(Fn.toBytes(s))).toBe(v.outputs.shares[j]);
        }
      } else {
        const { target, helpers } = v.inputs.params as { target: string; helpers: string[] };
        const s = helpers.reduce((a, h) => Fn.add(a, sent('repair_sigma', h, target)), Fn.create(0n));
        expect(toHex(Fn.toBytes(s))).toBe(v.outputs.shares[target]);
        expect(v.outputs.key).toEqual(v.inputs.key);
      }

      // The certificate confirms the output key, which succeeds the input key.
      if (v.outputs.certificate) {
        const params = v.inputs.params as { committee: string[]; threshold: number };
        const certificate = v.outputs.certificate.map((i) => v.messages[i] as (typeof v.messages)[number]);
        const confirmed = verifyLifecycleCertificate(certificate, {
          predecessor: v.inputs.key,
          operation: v.operation as 'refresh' | 'reshare',
          sessionId: v.inputs.sessionId,
          committee: params.committee,
          threshold: params.threshold,
          keyOf,
        });
        expect(confirmed).toEqual(v.outputs.key);
      }
      for (const [p, share] of Object.entries(v.outputs.shares)) makeKeyShare(v.outputs.key, p, fromHex(share));

      // The signature by the new shares verifies under the original public key.
      expect(v.outputs.key.publicKey).toBe(v.inputs.key.publicKey);
      const sig = fromHex(v.outputs.signature.signature);
      const msg = fromHex(v.outputs.signature.message);
      const pk = fromHex(v.inputs.key.publicKey);
      expect(suite.verify(sig, msg, pk)).toBe(true);
      const independent = independentVerifier(v.suite);
      if (independent) expect(independent(sig, msg, pk)).toBe(true);
    });
  }
});
