/**
 * Bundles for tests: deterministic identities and envelopes, and `rawBundle`, a second writer of
 * the v1 layout built from docs/bundles.md alone (not from the codec), so a test can seal bytes
 * the codec itself would refuse to write: a malformed item under a valid signature, a future
 * version, a lying length field.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { expect } from 'vitest';
import {
  BundleError,
  type BundleErrorCode,
  COORDINATOR,
  concatBytes,
  createEnvelopeSealer,
  type Envelope,
  type IdentityKey,
  identityFromSeed,
  MemoryBundleLedger,
  type OpenBundleOptions,
  type Rng,
  toHex,
  utf8,
} from '../src/index.js';

/** A deterministic identity per name. */
export const identityOf = (name: string): IdentityKey => identityFromSeed(sha256(utf8(`glacis bundle test identity ${name}`)));

export const coordinator = { name: COORDINATOR, identity: identityOf(COORDINATOR) };
export const party3 = { name: 'party-3', identity: identityOf('party-3') };
export const party1 = { name: 'party-1', identity: identityOf('party-1') };
/** Not pinned by anyone. */
export const stranger = { name: 'mallory', identity: identityOf('mallory') };

const pinned = new Map([coordinator, party3, party1].map((p) => [p.name, p.identity.publicKey]));
export const keyOf = (name: string): Uint8Array | undefined => pinned.get(name);

/** party-3 opening what it receives, with a fresh ledger unless one is given. */
export const party3Opens = (ledger = new MemoryBundleLedger()): OpenBundleOptions & { ledger: MemoryBundleLedger } => ({
  self: 'party-3',
  keyOf,
  ledger,
});

/** A counter-based rng: reproducible bundle ids. */
export function countingRng(seed = 0): Rng {
  let n = seed;
  return (len = 32) => {
    n++;
    return sha256(utf8(`rng ${n}`)).slice(0, len);
  };
}

const hex = (label: string, bytes: number) =>
  toHex(sha256(utf8(label)))
    .repeat(Math.ceil(bytes / 32))
    .slice(0, bytes * 2);

/** `count` signing packages for party-3, as the coordinator would send them (2-of-3, ed25519). */
export function signingPackages(count: number, from = coordinator): Envelope[] {
  const sealer = createEnvelopeSealer(from.name, from.identity, 1000);
  return Array.from({ length: count }, (_, i) =>
    sealer.seal({
      type: 'signing_package',
      sessionId: `sess-${i}`,
      to: 'party-3',
      body: {
        keyId: 'key-7f3a',
        requestId: `req-${i}`,
        intent: { type: 'raw', message: hex(`message ${i}`, 32) },
        approvals: [
          {
            approverKey: hex('approver', 32),
            signature: hex(`approval ${i}`, 64),
            nonce: hex(`nonce ${i}`, 16),
            expiresAt: '2026-12-31T00:00:00Z',
            policyVersion: 1,
          },
        ],
        commitments: ['party-1', 'party-3'].map((partyId) => ({
          partyId,
          hiding: hex(`h ${partyId} ${i}`, 32),
          binding: hex(`b ${partyId} ${i}`, 32),
        })),
      },
    }),
  );
}

/** One envelope of a different kind: party-1's DKG round-1 broadcast, relayed by the coordinator. */
export function relayedRound1(): Envelope {
  return createEnvelopeSealer(party1.name, party1.identity, 1).seal({
    type: 'dkg_round1',
    sessionId: 'dkg-1',
    to: '*',
    body: { commitment: [hex('c0', 32), hex('c1', 32)], proofOfKnowledge: hex('pok', 64), paramsHash: hex('params', 32) },
  });
}

/** Fields of a hand-built bundle; anything omitted takes a valid value. */
export interface RawBundle {
  magic?: Uint8Array;
  version?: number;
  /** Declared total length; default: the real one. */
  length?: number;
  sender?: string;
  recipient?: string;
  sequence?: bigint;
  bundleId?: Uint8Array;
  createdAt?: bigint;
  itemCount?: number;
  /** The item area, verbatim. */
  items: Uint8Array;
  /** Who signs; default: the sender's test identity. */
  signer?: IdentityKey;
}

const u = (n: number, bytes: number) => {
  const b = new Uint8Array(bytes);
  for (let i = bytes - 1, v = n; i >= 0; i--, v = Math.floor(v / 256)) b[i] = v % 256;
  return b;
};
const u64 = (v: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v);
  return b;
};
const name = (s: string) =>
  concatBytes(
    Uint8Array.of(s.length),
    Uint8Array.from(s, (c) => c.charCodeAt(0)),
  );

/** One item: kind, u32 length, payload. */
export const rawItem = (kind: number, payload: Uint8Array, length = payload.length): Uint8Array =>
  concatBytes(Uint8Array.of(kind), u(length, 4), payload);
/** An envelope item as the layout prescribes: canonical JSON of the envelope. */
export const envelopeItemBytes = (json: string): Uint8Array => rawItem(0x01, utf8(json));

/** The layout of docs/bundles.md, written out independently of the codec. */
export function rawBundle(f: RawBundle): Uint8Array {
  const sender = f.sender ?? COORDINATOR;
  const header = concatBytes(
    name(sender),
    name(f.recipient ?? 'party-3'),
    u64(f.sequence ?? 1n),
    f.bundleId ?? new Uint8Array(16).fill(0xab),
    u64(f.createdAt ?? 1_767_225_600_000n),
    u(f.itemCount ?? 1, 2),
  );
  const length = 4 + 1 + 4 + header.length + f.items.length + 32 + 64;
  const checked = concatBytes(
    f.magic ?? Uint8Array.of(0x89, 0x47, 0x4c, 0x42),
    Uint8Array.of(f.version ?? 1),
    u(f.length ?? length, 4),
    header,
    f.items,
  );
  const signed = concatBytes(checked, sha256(checked));
  const signer = f.signer ?? identityOf(sender);
  return concatBytes(signed, signer.sign(concatBytes(utf8('glacis/bundle/v1'), Uint8Array.of(0), signed)));
}

/** Replaces the checksum and signature of `bytes` (declared length kept) after an edit. */
export function reseal(bytes: Uint8Array, signer: IdentityKey): Uint8Array {
  const checked = bytes.slice(0, bytes.length - 96);
  const signed = concatBytes(checked, sha256(checked));
  return concatBytes(signed, signer.sign(concatBytes(utf8('glacis/bundle/v1'), Uint8Array.of(0), signed)));
}

/** Runs `f`, expecting a BundleError with `code` (and exactly `culprits`, when given). */
export function expectBundleCode(f: () => unknown, code: BundleErrorCode, culprits?: readonly string[]): BundleError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof BundleError))
    throw new Error(`expected BundleError ${code}, got ${caught === undefined ? 'no error' : String(caught)}`);
  expect({ code: caught.code, message: caught.message }).toMatchObject({ code });
  if (culprits !== undefined) expect([...caught.culprits]).toEqual([...culprits]);
  return caught;
}
