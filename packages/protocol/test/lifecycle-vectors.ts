/**
 * Builds the published key-lifecycle vectors (docs/vectors/, described in its README): for each
 * suite, a 2-of-3 key made by Glacis's DKG from a seeded RNG, then one refresh, one repair and one
 * reshare (2-of-3 → 3-of-5) of it through the real state machines and the in-memory relay, every
 * envelope recorded, every box's plaintext alongside, the outputs, and a signature by the new
 * shares under the original key. Everything is deterministic: identities, polynomials, boxes,
 * batch coefficients and signing nonces all come from SHA-256 counter streams of named seeds.
 *
 * `scripts/lifecycle-vectors.mjs` writes the files; vectors-lifecycle.test.ts rebuilds them and
 * compares byte for byte.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
  concatBytes,
  type Envelope,
  fromHex,
  getSuite,
  type KeyShare,
  keyPackageHash,
  openBox,
  type PublicKeyPackage,
  type RepairResult,
  type Rng,
  SUITE_IDS,
  type SuiteId,
  toHex,
  utf8,
} from '../src/index.js';
import type { Cluster } from './harness.js';
import { sign } from './harness.js';
import { activateAll, refreshMachines, repairMachines, reshareMachines, reshareSuccessors, withShares } from './lifecycle-harness.js';
import { runSession, type SessionRun } from './lifecycle-sim.js';
import { makeWorld, runDkg, type SimParty, type SimWorld } from './sim.js';

/** Format version of the vector files. */
export const VECTOR_VERSION = 1;
const SEED_PREFIX = 'glacis/lifecycle-vectors/v1';
const PARTIES = ['p01', 'p02', 'p03', 'p04', 'p05', 'p06'];
const KEY = { keyId: 'vector-key', committee: ['p01', 'p02', 'p03'], threshold: 2 };
const REPAIR = { target: 'p02', helpers: ['p01', 'p03'] };
const RESHARE = { dealers: ['p01', 'p03'], committee: ['p02', 'p03', 'p04', 'p05', 'p06'], threshold: 3 };
/** What every vector's successor signs: SHA-256("glacis lifecycle vector"), 32 bytes (BIP-340 signs digests). */
export const VECTOR_MESSAGE = sha256(utf8('glacis lifecycle vector'));

/**
 * The byte stream SHA-256(seed ‖ be64(0)) ‖ SHA-256(seed ‖ be64(1)) ‖ …, handed out in order:
 * each call takes the next `n` bytes. `seed` is the UTF-8 of `glacis/lifecycle-vectors/v1/<label>`.
 */
export function seededRng(label: string): Rng {
  const seed = utf8(`${SEED_PREFIX}/${label}`);
  let buffer = new Uint8Array(0);
  let counter = 0n;
  return (n = 32) => {
    while (buffer.length < n) {
      const ctr = new Uint8Array(8);
      new DataView(ctr.buffer).setBigUint64(0, counter++);
      buffer = concatBytes(buffer, sha256(concatBytes(seed, ctr)));
    }
    const out = buffer.slice(0, n);
    buffer = buffer.slice(n);
    return out;
  };
}

/** The starting point of one suite's vectors: parties, the DKG'd key, its shares. */
function startingKey(id: SuiteId): Cluster {
  const suite = getSuite(id);
  const world = makeWorld(PARTIES, seededRng(`${id}/identities`));
  const run = runDkg(world, suite, KEY.committee, KEY.threshold, { keyId: KEY.keyId, rng: seededRng(`${id}/dkg`) });
  if (run.errors.size > 0 || run.shares.size !== KEY.committee.length) throw new Error(`vector DKG for ${id} failed`);
  const share = (n: string) => run.shares.get(n) as KeyShare;
  return { suite, world, names: [...KEY.committee], run, pub: share('p01').public, share };
}

const shareHex = (s: KeyShare) => toHex(s.frostSecret.signingShare);

/** The decrypted content of every box in `log`, by message index (opened with the recipient's identity). */
function plaintexts(world: SimWorld, suite: SuiteId, log: readonly Envelope[]) {
  const out: { message: number; type: string; from: string; to: string; value: string }[] = [];
  log.forEach((env, message) => {
    const box = (env.body as { box?: { epk: string; nonce: string; ciphertext: string } }).box;
    if (box === undefined) return;
    const identity = (world.parties.get(env.to) as SimParty).identity;
    const value = openBox({ epk: fromHex(box.epk), nonce: fromHex(box.nonce), ciphertext: fromHex(box.ciphertext) }, identity, {
      suite,
      sessionId: env.sessionId,
      round: env.type,
      from: env.from,
      to: env.to,
    });
    out.push({ message, type: env.type, from: env.from, to: env.to, value: toHex(value) });
  });
  return out;
}

function inputs(c: Cluster, names: readonly string[], holders: readonly string[], sessionId: string, params: Record<string, unknown>) {
  return {
    parties: Object.fromEntries(
      names.map((n) => {
        const identity = (c.world.parties.get(n) as SimParty).identity;
        return [
          n,
          { identitySeed: toHex(identity.exportSeed()), identityKey: toHex(identity.publicKey), identifier: c.suite.identifierFor(n) },
        ];
      }),
    ),
    key: c.pub,
    keyHash: keyPackageHash(c.pub),
    shares: Object.fromEntries(holders.map((n) => [n, shareHex(c.share(n))])),
    sessionId,
    params,
  };
}

function signature(c: Cluster, signers: readonly string[], label: string) {
  const sig = sign(c, signers, VECTOR_MESSAGE, seededRng(label));
  return { signers: [...signers], message: toHex(VECTOR_MESSAGE), signature: toHex(sig) };
}

function vector(id: SuiteId, operation: string, description: string, body: Record<string, unknown>): string {
  const value = { description, version: VECTOR_VERSION, suite: id, operation, rngSeedPrefix: `${SEED_PREFIX}/${id}/`, ...body };
  return `${JSON.stringify(value, null, 2)}\n`;
}

function messages(run: SessionRun<unknown>, world: SimWorld, id: SuiteId) {
  if (run.errors.size > 0 || run.refused.length > 0) throw new Error(`vector run for ${id} did not complete cleanly`);
  return { messages: run.log, plaintexts: plaintexts(world, id, run.log) };
}

function refreshVector(id: SuiteId): string {
  const c = startingKey(id);
  const sessionId = 'refresh-1';
  const run = runSession(c.world, refreshMachines(c, { sessionId, rng: seededRng(`${id}/refresh`) }));
  const shares = activateAll(run.results, c.pub, run.toCoordinator, c.world.keyOf);
  const next = withShares(c, shares);
  return vector(id, 'refresh', `Refresh of a 2-of-3 ${id} key: every share replaced, same public key.`, {
    inputs: inputs(c, KEY.committee, KEY.committee, sessionId, { committee: KEY.committee, threshold: KEY.threshold }),
    ...messages(run, c.world, id),
    outputs: {
      key: next.pub,
      shares: Object.fromEntries([...shares].map(([n, s]) => [n, shareHex(s)])),
      certificate: run.toCoordinator.map((e) => run.log.indexOf(e)),
      signature: signature(next, ['p01', 'p03'], `${id}/refresh/sign`),
    },
  });
}

function repairVector(id: SuiteId): string {
  const c = startingKey(id);
  const sessionId = 'repair-1';
  const run = runSession(c.world, repairMachines(c, { ...REPAIR, sessionId, rng: seededRng(`${id}/repair`) }));
  const result = run.results.get(REPAIR.target) as RepairResult;
  if (result.kind !== 'repaired') throw new Error(`vector repair for ${id} failed`);
  const all = new Map(KEY.committee.map((n) => [n, n === REPAIR.target ? result.share : c.share(n)]));
  return vector(id, 'repair', `Verified repair of ${REPAIR.target}'s share of a 2-of-3 ${id} key by ${REPAIR.helpers.join(' and ')}.`, {
    inputs: inputs(c, KEY.committee, REPAIR.helpers, sessionId, REPAIR),
    ...messages(run, c.world, id),
    outputs: {
      key: c.pub,
      shares: { [REPAIR.target]: shareHex(result.share) },
      signature: signature(withShares(c, all), [REPAIR.target, 'p03'], `${id}/repair/sign`),
    },
  });
}

function reshareVector(id: SuiteId): string {
  const c = startingKey(id);
  const sessionId = 'reshare-1';
  const run = runSession(c.world, reshareMachines(c, c.world, { ...RESHARE, sessionId, rng: seededRng(`${id}/reshare`) }));
  const shares = activateAll(reshareSuccessors(run), c.pub, run.toCoordinator, c.world.keyOf);
  const next = withShares(c, shares);
  const names = [...new Set([...KEY.committee, ...RESHARE.committee])].sort();
  return vector(id, 'reshare', `Reshare of a 2-of-3 ${id} key to a 3-of-5 committee, dealt by ${RESHARE.dealers.join(' and ')}.`, {
    inputs: inputs(c, names, RESHARE.dealers, sessionId, RESHARE),
    ...messages(run, c.world, id),
    outputs: {
      key: next.pub,
      shares: Object.fromEntries([...shares].map(([n, s]) => [n, shareHex(s)])),
      certificate: run.toCoordinator.map((e) => run.log.indexOf(e)),
      signature: signature(next, ['p02', 'p04', 'p06'], `${id}/reshare/sign`),
    },
  });
}

/** Every vector file, by path under docs/vectors/, with its exact text. */
export function buildLifecycleVectors(suites: readonly SuiteId[] = SUITE_IDS): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of suites) {
    out.set(`${id}/refresh.json`, refreshVector(id));
    out.set(`${id}/repair.json`, repairVector(id));
    out.set(`${id}/reshare.json`, reshareVector(id));
  }
  return out;
}

/** The shape of a vector file, for readers of the JSON. */
export interface LifecycleVector {
  description: string;
  version: number;
  suite: SuiteId;
  operation: 'refresh' | 'repair' | 'reshare';
  rngSeedPrefix: string;
  inputs: {
    parties: Record<string, { identitySeed: string; identityKey: string; identifier: string }>;
    key: PublicKeyPackage;
    keyHash: string;
    shares: Record<string, string>;
    sessionId: string;
    params: Record<string, unknown>;
  };
  messages: Envelope[];
  plaintexts: { message: number; type: string; from: string; to: string; value: string }[];
  outputs: {
    key: PublicKeyPackage;
    shares: Record<string, string>;
    certificate?: number[];
    signature: { signers: string[]; message: string; signature: string };
  };
}
