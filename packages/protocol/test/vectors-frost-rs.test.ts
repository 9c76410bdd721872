/**
 * ZcashFoundation frost-rs vectors for all six crates, through Glacis's suite layer: a second
 * signing vector per suite (other nonce randomness), identifiers above 255, invalid elements and
 * the serialization samples the wire format relies on.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, getSuite, isProtocolError, toHex } from '../src/index.js';
import { CRATES, type SigningVector, vectorJson } from './load-vectors.js';
import { checkSigningVector } from './signing-vector.js';

type Samples = { identifier: string; proof_of_knowledge: string; element1: string; element2: string; scalar1: string };
type Repair = {
  scalar_generation: Record<'random_scalar_1' | 'random_scalar_2' | 'random_scalar_3' | 'random_scalar_sum', string>;
  sigma_generation: Record<'sigma_1' | 'sigma_2' | 'sigma_3' | 'sigma_4' | 'sigma_sum', string>;
};

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isProtocolError(e) ? e.code : `non-protocol error: ${String(e)}`;
  }
  return undefined;
}

for (const [crate, id] of Object.entries(CRATES)) {
  describe(`frost-rs ${crate} → ${id}`, () => {
    const suite = getSuite(id);
    const dir = `zcash-frost/${crate}`;

    it('vectors.json: signing', () => {
      checkSigningVector(id, vectorJson<SigningVector>(`${dir}/vectors.json`));
    });

    it('vectors-big-identifier.json: signing with identifiers above 255', () => {
      const v = vectorJson<SigningVector>(`${dir}/vectors-big-identifier.json`);
      checkSigningVector(id, v);
    });

    it('elements.json: the invalid element is rejected as invalid_point', () => {
      const { elements } = vectorJson<{ elements: { invalid_element: string } }>(`${dir}/elements.json`);
      const bytes = fromHex(elements.invalid_element);
      expect(bytes.length).toBe(suite.elementLength);
      expect(codeOf(() => suite.parseElement(bytes, 'invalid_element', 'mallory'))).toBe('invalid_point');
      if (id === 'ed25519' || id === 'ed448') {
        // On the curve, outside the prime-order subgroup: only the subgroup check stands between
        // this point and the protocol, so prove that it is the one that fires.
        expect(() => suite.Point.fromBytes(bytes)).not.toThrow();
        expect(suite.Point.fromBytes(bytes).isTorsionFree()).toBe(false);
      }
    });

    it('samples.json: identifier, element, scalar and proof encodings', () => {
      const s = vectorJson<Samples>(`${dir}/samples.json`);
      expect(suite.frost.Identifier.fromNumber(42)).toBe(s.identifier);
      const g = suite.parseElement(fromHex(s.element1), 'element1');
      expect(g.equals(suite.Point.BASE)).toBe(true);
      const g2 = suite.parseElement(fromHex(s.element2), 'element2');
      expect(g2.equals(suite.Point.BASE.multiply(2n))).toBe(true);
      expect(toHex(g2.toBytes())).toBe(s.element2);
      const k = suite.parseScalar(fromHex(s.scalar1), 'scalar1');
      expect(toHex(suite.Fn.toBytes(k))).toBe(s.scalar1);
      // A proof of knowledge is a signature in the suite's encoding (x-only R for secp256k1-tr);
      // the DKG participant checks exactly this layout on every round-1 package.
      const pok = fromHex(s.proof_of_knowledge);
      expect(pok.length).toBe(suite.signatureLength);
      const r = id === 'secp256k1-tr' ? s.element1.slice(2) : s.element1;
      expect(s.proof_of_knowledge).toBe(r + s.scalar1);
    });

    it('repair-share.json: scalar sums in the suite field', () => {
      const r = vectorJson<Repair>(`${dir}/repair-share.json`);
      const sum = (hexes: string[]) =>
        toHex(suite.Fn.toBytes(hexes.reduce((a, h) => suite.Fn.add(a, suite.parseScalar(fromHex(h), 's')), 0n)));
      const g = r.scalar_generation;
      expect(sum([g.random_scalar_1, g.random_scalar_2, g.random_scalar_3])).toBe(g.random_scalar_sum);
      const sg = r.sigma_generation;
      expect(sum([sg.sigma_1, sg.sigma_2, sg.sigma_3, sg.sigma_4])).toBe(sg.sigma_sum);
    });
  });
}
