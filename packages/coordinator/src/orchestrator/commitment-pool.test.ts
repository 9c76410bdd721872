import { getSuite, isProtocolError, type NonceCommitment, parseNonceCommitment, toHex } from '@glacis/protocol';
import { describe, expect, it } from 'vitest';
import { createCommitmentPool } from './commitment-pool.js';

const suite = getSuite('ed25519');
let last = suite.Point.BASE;
/** A fresh, valid commitment (two group elements never used before), parsed as `party`'s. */
function commitment(party = 'p1'): NonceCommitment {
  const point = () => {
    last = last.add(suite.Point.BASE);
    return toHex(last.toBytes());
  };
  return parseNonceCommitment(suite, { hiding: point(), binding: point() }, party);
}
const takeAll = (pool: ReturnType<typeof createCommitmentPool>, keyId: string, party: string) => {
  const out: NonceCommitment[] = [];
  for (let c = pool.take(keyId, party); c; c = pool.take(keyId, party)) out.push(c);
  return out;
};

describe('commitment pool', () => {
  it('hands each commitment out once, oldest first, even when the party sends it again', () => {
    const pool = createCommitmentPool({ target: 8, lowWater: 4 });
    const [a, b] = [commitment(), commitment()] as [NonceCommitment, NonceCommitment];
    expect(pool.put('k1', 'p1', [a, b, a])).toBe(2);
    expect(pool.take('k1', 'p1')).toBe(a);
    // A replay of a commitment already handed out (it may be in a package now) is refused.
    expect(pool.put('k1', 'p1', [a])).toBe(0);
    expect(takeAll(pool, 'k1', 'p1')).toEqual([b]);
    expect(pool.take('k1', 'p1')).toBeUndefined();
  });

  it('keeps commitments per key and party', () => {
    const pool = createCommitmentPool({ target: 8, lowWater: 4 });
    const c = commitment();
    pool.put('k1', 'p1', [c]);
    expect(pool.take('k2', 'p1')).toBeUndefined();
    expect(pool.take('k1', 'p2')).toBeUndefined();
    expect(pool.take('k1', 'p1')).toBe(c);
  });

  it('takes back a commitment a request did not use, once; a give-back of one it holds changes nothing', () => {
    const pool = createCommitmentPool({ target: 8, lowWater: 4 });
    const c = commitment();
    pool.put('k1', 'p1', [c]);
    const taken = pool.take('k1', 'p1') as NonceCommitment;
    pool.giveBack('k1', 'p1', taken);
    pool.giveBack('k1', 'p1', taken);
    expect(pool.size('k1', 'p1')).toBe(1);
    expect(pool.put('k1', 'p1', [c])).toBe(0);
    expect(takeAll(pool, 'k1', 'p1')).toEqual([c]);
  });

  it('forgets everything of a party that disconnects; a give-back after that is refused', () => {
    const pool = createCommitmentPool({ target: 8, lowWater: 4 });
    const [a, b] = [commitment(), commitment()] as [NonceCommitment, NonceCommitment];
    pool.put('k1', 'p1', [a, b]);
    pool.put('k1', 'p2', [commitment('p2')]);
    const taken = pool.take('k1', 'p1') as NonceCommitment;
    pool.asked('k1', 'p1', 8);
    pool.dropParty('p1');
    expect(pool.size('k1', 'p1')).toBe(0);
    expect(pool.take('k1', 'p1')).toBeUndefined();
    pool.giveBack('k1', 'p1', taken); // it may have restarted and forgotten the nonce
    expect(pool.size('k1', 'p1')).toBe(0);
    expect(pool.deficit('k1', 'p1'), 'asks outstanding on the old connection are forgotten too').toBe(8);
    expect(pool.size('k1', 'p2')).toBe(1);
  });

  it('is bounded: at most max(8 × target, 64) per key and party, the oldest dropped first', () => {
    const pool = createCommitmentPool({ target: 10, lowWater: 5 });
    const all = Array.from({ length: 85 }, () => commitment());
    expect(pool.put('k1', 'p1', all)).toBe(85);
    expect(pool.size('k1', 'p1')).toBe(80);
    expect(takeAll(pool, 'k1', 'p1')).toEqual(all.slice(5));
    const small = createCommitmentPool({ target: 0, lowWater: 0 });
    small.put(
      'k1',
      'p1',
      Array.from({ length: 70 }, () => commitment()),
    );
    expect(small.size('k1', 'p1'), 'a request’s own asks still pass through a disabled pool').toBe(64);
  });

  it('asks for what is missing below the low-water mark, counting asks not yet answered', () => {
    const pool = createCommitmentPool({ target: 8, lowWater: 4 });
    expect(pool.deficit('k1', 'p1')).toBe(8);
    pool.asked('k1', 'p1', 8);
    expect(pool.deficit('k1', 'p1')).toBe(0);
    pool.answered('k1', 'p1', 8);
    pool.put(
      'k1',
      'p1',
      Array.from({ length: 8 }, () => commitment()),
    );
    expect(pool.deficit('k1', 'p1')).toBe(0);
    for (let i = 0; i < 5; i++) pool.take('k1', 'p1');
    expect(pool.deficit('k1', 'p1')).toBe(5);
    expect(createCommitmentPool({ target: 0, lowWater: 0 }).deficit('k1', 'p1'), 'target 0 never asks').toBe(0);
  });

  it('admits only valid group elements, naming the party that sent another', () => {
    const good = commitment();
    const notAPoint = { hiding: 'ff'.repeat(32), binding: good.wire.binding };
    let caught: unknown;
    try {
      parseNonceCommitment(suite, notAPoint, 'mallory');
    } catch (e) {
      caught = e;
    }
    expect(isProtocolError(caught, 'invalid_point')).toBe(true);
    expect((caught as { culprits: string[] }).culprits).toEqual(['mallory']);
  });
});
