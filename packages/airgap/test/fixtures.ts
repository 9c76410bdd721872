/** Bundles and scratch directories for the transport tests. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BundleItem,
  COORDINATOR,
  createEnvelopeSealer,
  identityFromSeed,
  MemoryBundleLedger,
  type OpenBundleOptions,
  sealBundle,
  toHex,
} from '@glacis/protocol';
import { afterEach, expect } from 'vitest';
import { AirgapError } from '../src/index.js';

const sha256 = (s: string) => new Uint8Array(createHash('sha256').update(s).digest());

export const coordinator = { name: COORDINATOR, identity: identityFromSeed(sha256('airgap test coordinator')) };
export const party3Opens = (): OpenBundleOptions => ({
  self: 'party-3',
  keyOf: (n) => (n === COORDINATOR ? coordinator.identity.publicKey : undefined),
  ledger: new MemoryBundleLedger(),
});

/** A deterministic byte source. */
export function seededBytes(seed: string) {
  let n = 0;
  return (len = 32) => {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i += 32) out.set(sha256(`${seed} ${n++}`).subarray(0, Math.min(32, len - i)), i);
    return out;
  };
}

/** A bundle of `count` signing packages from the coordinator to party-3 (about 900 bytes each). */
export function requestBundle(count: number, sequence = 1): Uint8Array {
  const sealer = createEnvelopeSealer(COORDINATOR, coordinator.identity, 1);
  const hex = (label: string) => toHex(sha256(label));
  const items = Array.from(
    { length: count },
    (_, i): BundleItem => ({
      kind: 'envelope',
      envelope: sealer.seal({
        type: 'signing_package',
        sessionId: `sess-${i}`,
        to: 'party-3',
        body: {
          keyId: 'key-1',
          requestId: `req-${i}`,
          intent: { type: 'raw', message: hex(`m${i}`) },
          approvals: [
            {
              approverKey: hex('approver'),
              signature: hex(`a${i}`) + hex(`b${i}`),
              nonce: hex(`n${i}`),
              expiresAt: '2026-01-01T00:00:00Z',
              policyVersion: 1,
            },
          ],
          commitments: ['party-1', 'party-3'].map((partyId) => ({
            partyId,
            hiding: hex(`h${partyId}${i}`),
            binding: hex(`b${partyId}${i}`),
          })),
        },
      }),
    }),
  );
  return sealBundle(
    { recipient: 'party-3', sequence, createdAt: 1_767_225_600_000, items },
    coordinator,
    seededBytes(`bundle ${count} ${sequence}`),
  );
}

/** Call at module level: returns a maker of temporary directories, each removed after its test. */
export function scratchDirs(): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'glacis-airgap-'));
    made.push(dir);
    return dir;
  };
}

/** Fisher–Yates with a seeded source: a reproducible shuffle. */
export function shuffled<T>(items: readonly T[], seed: string): T[] {
  const out = [...items];
  const rnd = seededBytes(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const r = new DataView(rnd(4).buffer).getUint32(0);
    const j = r % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Awaits `p`, expecting an AirgapError with `code`. */
export async function rejectsWith(p: Promise<unknown>, code: string): Promise<AirgapError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AirgapError);
  expect((e as AirgapError).code).toBe(code);
  return e as AirgapError;
}
