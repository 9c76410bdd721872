import { randomBytes } from 'node:crypto';
import { COORDINATOR, generateIdentity, type Outgoing, openEnvelope, ReplayGuard } from '@glacis/protocol';
import { describe, expect, test } from 'vitest';
import { createClockSealer } from './coordinator-sealer.js';

const identity = generateIdentity((n = 32) => new Uint8Array(randomBytes(n)));
const abort = (sessionId: string): Outgoing => ({
  type: 'dkg_abort',
  sessionId,
  to: 'p1',
  body: { keyId: 'key_1', code: 'coordinator_restarted', message: 'x', culprits: [] },
});

describe('coordinator sealer', () => {
  test('an instance started before another is not taken for a replay when it speaks later in the same DKG session', () => {
    let clock = 1_000_000;
    const started = clock;
    const b = createClockSealer(COORDINATOR, identity, () => clock); // B starts first, says nothing yet
    clock += 60_000;
    const a = createClockSealer(COORDINATOR, identity, () => clock); // A starts a minute later…
    const guard = new ReplayGuard();
    const open = (env: ReturnType<typeof a.seal>) => openEnvelope(env, { self: 'p1', keyOf: () => identity.publicKey, replay: guard });
    for (let i = 0; i < 100; i++) open(a.seal(abort('dkg-key_1'))); // …runs a DKG and dies
    clock += 3_000; // B takes the DKG over once A's lease lapsed
    expect(() => open(b.seal(abort('dkg-key_1')))).not.toThrow();
    expect(started).toBeLessThan(clock);
  });

  test('seq never repeats or goes back, even when the clock does', () => {
    let clock = 5_000;
    const s = createClockSealer(COORDINATOR, identity, () => clock);
    const first = s.seal(abort('dkg-k')).seq;
    clock -= 1_000;
    const second = s.seal(abort('dkg-k')).seq;
    const third = s.seal(abort('dkg-k')).seq;
    expect(second).toBe(first + 1);
    expect(third).toBe(second + 1);
  });
});
