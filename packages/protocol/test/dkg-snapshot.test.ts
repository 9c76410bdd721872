/**
 * A DKG participant that stops between rounds (an offline party between trips to its vault):
 * `snapshot()` → JSON → `resume` after every single message gives the same key as an
 * uninterrupted run, holds no secret once done, and a snapshot that does not fit the session is
 * refused with a code rather than half-restored.
 */
import { describe, expect, it } from 'vitest';
import {
  createDkgParticipant,
  type DkgParticipant,
  type DkgParticipantOptions,
  type DkgSnapshot,
  getSuite,
  isProtocolError,
} from '../src/index.js';
import { makeWorld, rng, runDkg, type SimParty, type SimWorld } from './sim.js';

const committee = ['p1', 'p2', 'p3'];
const suite = getSuite('ed25519');

function options(world: SimWorld, self: string, keyId: string): DkgParticipantOptions {
  const p = world.parties.get(self) as SimParty;
  return { suite, keyId, sessionId: `dkg-${keyId}`, self, committee, threshold: 2, identity: p.identity, peerKey: world.keyOf, rng };
}

/** A participant rebuilt from its JSON snapshot after every step, as the offline party does between runs. */
function rebornEachStep(opts: DkgParticipantOptions, snapshots: DkgSnapshot[]): DkgParticipant {
  let current = createDkgParticipant(opts);
  const cycle = <T>(result: T): T => {
    const snap = current.snapshot();
    if (snap) {
      const stored = JSON.parse(JSON.stringify(snap)) as DkgSnapshot;
      snapshots.push(stored);
      current.close();
      current = createDkgParticipant({ ...opts, resume: stored });
    }
    return result;
  };
  return {
    get phase() {
      return current.phase;
    },
    get transcriptHash() {
      return current.transcriptHash;
    },
    start: () => cycle(current.start()),
    receive: (msg) => cycle(current.receive(msg)),
    snapshot: () => current.snapshot(),
    close: () => current.close(),
  };
}

describe('DKG participant snapshots', () => {
  it('a participant rebuilt from its snapshot after every message derives the same key as its peers', () => {
    const world = makeWorld(committee);
    const keyId = 'k-snap';
    const snapshots: DkgSnapshot[] = [];
    const participants = new Map<string, DkgParticipant>(
      committee.map((m) => [
        m,
        m === 'p3' ? rebornEachStep(options(world, m, keyId), snapshots) : createDkgParticipant(options(world, m, keyId)),
      ]),
    );
    const run = runDkg(world, suite, committee, 2, { keyId, participants });
    expect([...run.errors]).toEqual([]);
    expect(run.shares.size).toBe(3);
    const pubs = [...run.shares.values()].map((s) => JSON.stringify(s.public));
    expect(new Set(pubs).size).toBe(1);
    // It went through both phases on disk: the polynomial before dealing, only its own share after.
    expect(snapshots.some((s) => s.phase === 'round1' && s.coefficients?.length === 2 && s.ownShare === undefined)).toBe(true);
    expect(snapshots.some((s) => s.phase === 'round2' && s.ownShare !== undefined && s.coefficients === undefined)).toBe(true);
    // Done: nothing left to keep.
    expect((participants.get('p3') as DkgParticipant).snapshot()).toBeUndefined();
  });

  it('a snapshot without its own round-1 package, or with a stranger in it, is refused with a code', () => {
    const world = makeWorld(committee);
    const p = createDkgParticipant(options(world, 'p3', 'k-bad'));
    p.start();
    const snap = p.snapshot() as DkgSnapshot;
    const { p3: _own, ...others } = snap.round1;
    const missingOwn = { ...snap, round1: others };
    const codeOf = (resume: DkgSnapshot) => {
      try {
        createDkgParticipant({ ...options(world, 'p3', 'k-bad'), resume });
        return 'restored';
      } catch (e) {
        return isProtocolError(e) ? e.code : 'untyped';
      }
    };
    expect(codeOf(missingOwn)).toBe('dkg_failed');
    expect(codeOf({ ...snap, round1: { ...snap.round1, mallory: snap.round1.p3 as DkgSnapshot['round1'][string] } })).toBe(
      'not_in_committee',
    );
    expect(codeOf({ ...snap, coefficients: [] })).toBe('dkg_failed');
    expect(codeOf(snap)).toBe('restored');
  });
});
