/**
 * Signed envelopes: everything a relay or a stranger can do to one is refused with a code that
 * says what went wrong, and nothing the relay may legitimately do (re-serialise, reorder keys)
 * breaks a signature.
 */
import { describe, expect, it } from 'vitest';
import {
  BROADCAST,
  canonicalJson,
  createEnvelopeSealer,
  type Envelope,
  generateIdentity,
  type OpenOptions,
  openEnvelope,
  ReplayGuard,
} from '../src/index.js';
import { expectCode, resign } from './harness.js';
import { makeWorld, rng } from './sim.js';

const world = makeWorld(['alice', 'bob', 'carol']);
const alice = world.parties.get('alice')!;
const bob = world.parties.get('bob')!;
const opts = (self: string, replay = new ReplayGuard()): OpenOptions => ({ self, keyOf: world.keyOf, replay });

const round1Body = { paramsHash: '00'.repeat(32), commitment: ['aa', 'bb'], proofOfKnowledge: 'cc' };
const broadcast = (): Envelope => alice.sealer.seal({ type: 'dkg_round1', sessionId: 's1', to: BROADCAST, body: round1Body });
const direct = (): Envelope =>
  alice.sealer.seal({
    type: 'dkg_round2',
    sessionId: 's1',
    to: 'bob',
    body: { transcriptHash: 'ab'.repeat(32), box: { epk: 'aa', nonce: 'bb', ciphertext: 'cc' } },
  });

/** Recursively reverses the key order of every object. */
function reorderKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reorderKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .reverse()
        .map((k) => [k, reorderKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

describe('openEnvelope accepts what was signed', () => {
  it('returns the authenticated header and typed body', () => {
    const env = broadcast();
    const msg = openEnvelope(JSON.parse(JSON.stringify(env)), opts('bob'));
    expect(msg).toEqual({ type: 'dkg_round1', sessionId: 's1', from: 'alice', to: BROADCAST, seq: env.seq, body: round1Body });
  });

  it('a relay that reorders JSON keys (canonical encoding) does not break the signature', () => {
    const env = direct();
    const reordered = reorderKeys(env) as Envelope;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(env));
    expect(canonicalJson(reordered)).toBe(canonicalJson(env));
    expect(openEnvelope(reordered, opts('bob')).from).toBe('alice');
  });

  it('a relay that re-indents the JSON does not break the signature', () => {
    const env = direct();
    expect(openEnvelope(JSON.parse(JSON.stringify(env, null, 4)), opts('bob')).type).toBe('dkg_round2');
  });
});

describe('openEnvelope refuses, with a code', () => {
  it('non-objects', () => {
    for (const raw of [null, undefined, 42, 'envelope', [], true]) expectCode(() => openEnvelope(raw, opts('bob')), 'invalid_envelope');
  });

  it('an envelope missing any field', () => {
    const env = broadcast();
    for (const key of Object.keys(env)) {
      const partial: Record<string, unknown> = { ...env };
      delete partial[key];
      expectCode(() => openEnvelope(partial, opts('bob')), 'invalid_envelope');
    }
  });

  it('an envelope with an extra field (it would ride along unsigned)', () => {
    expectCode(() => openEnvelope({ ...broadcast(), note: 'hi' }, opts('bob')), 'invalid_envelope');
  });

  it('a signature that is not lowercase hex', () => {
    const env = broadcast();
    expectCode(() => openEnvelope({ ...env, signature: env.signature.toUpperCase() }, opts('bob')), 'invalid_envelope');
    expectCode(() => openEnvelope({ ...env, signature: `${env.signature}0` }, opts('bob')), 'invalid_envelope');
  });

  it('a signature of the wrong length', () => {
    const env = broadcast();
    expectCode(() => openEnvelope({ ...env, signature: env.signature.slice(2) }, opts('bob')), 'bad_signature');
    expectCode(() => openEnvelope({ ...env, signature: '' }, opts('bob')), 'bad_signature');
  });

  it('an unknown version, even validly signed', () => {
    expectCode(() => openEnvelope(resign({ ...broadcast(), v: 2 }, alice.identity), opts('bob')), 'unsupported_version');
    expectCode(() => openEnvelope(resign({ ...broadcast(), v: 0 }, alice.identity), opts('bob')), 'unsupported_version');
  });

  it('an unknown message type, even validly signed', () => {
    expectCode(() => openEnvelope(resign({ ...broadcast(), type: 'dkg_round9' }, alice.identity), opts('bob')), 'unknown_message_type');
    // Prototype keys are not message types.
    expectCode(() => openEnvelope(resign({ ...broadcast(), type: 'toString' }, alice.identity), opts('bob')), 'unknown_message_type');
  });

  it('a sender whose key is not pinned, however well it signs', () => {
    const mallory = createEnvelopeSealer('mallory', generateIdentity(rng), 1);
    const env = mallory.seal({ type: 'dkg_round1', sessionId: 's1', to: BROADCAST, body: round1Body });
    expectCode(() => openEnvelope(env, opts('bob')), 'unknown_party');
  });

  it('an envelope signed by another pinned party than its `from`', () => {
    expectCode(() => openEnvelope(resign(broadcast(), bob.identity), opts('carol')), 'bad_signature');
  });

  it('an altered body', () => {
    const env = broadcast();
    expectCode(() => openEnvelope({ ...env, body: { ...round1Body, proofOfKnowledge: 'cd' } }, opts('bob')), 'bad_signature');
  });

  it('an envelope for someone else', () => {
    expectCode(() => openEnvelope(direct(), opts('carol')), 'wrong_recipient');
    // The relaying coordinator may read it, nobody else.
    expect(openEnvelope(direct(), { ...opts('coordinator'), anyRecipient: true }).to).toBe('bob');
  });

  it('a validly signed but malformed body, blaming its sender', () => {
    for (const body of [
      { commitment: 'aa', proofOfKnowledge: 'cc' },
      { ...round1Body, extra: 1 },
      { commitment: ['AA'], proofOfKnowledge: 'cc' },
      null,
    ]) {
      const env = resign({ ...broadcast(), body }, alice.identity);
      expectCode(() => openEnvelope(env, opts('bob')), 'invalid_message', ['alice']);
    }
  });
});

describe('replays', () => {
  it('the same envelope twice is a replay', () => {
    const guard = new ReplayGuard();
    const env = broadcast();
    openEnvelope(env, opts('bob', guard));
    expectCode(() => openEnvelope(env, opts('bob', guard)), 'replayed_message');
  });

  it('an older envelope after a newer one is a replay', () => {
    const guard = new ReplayGuard();
    const older = broadcast();
    const newer = broadcast();
    openEnvelope(newer, opts('bob', guard));
    expectCode(() => openEnvelope(older, opts('bob', guard)), 'replayed_message');
  });

  it('a refused envelope does not advance the replay window', () => {
    const guard = new ReplayGuard();
    const env = broadcast();
    expectCode(() => openEnvelope({ ...env, body: {} }, opts('bob', guard)), 'bad_signature');
    expect(openEnvelope(env, opts('bob', guard)).seq).toBe(env.seq);
  });

  it('sequence numbers are per session', () => {
    const guard = new ReplayGuard();
    const a = alice.sealer.seal({ type: 'dkg_round1', sessionId: 's2', to: BROADCAST, body: round1Body });
    const b = broadcast();
    openEnvelope(a, opts('bob', guard));
    expect(openEnvelope(b, opts('bob', guard)).sessionId).toBe('s1');
  });
});
