/**
 * Loading the vendored test vectors (test/vectors/, never edited) and the suite each one belongs
 * to. Vector identifiers are small integers; noble maps them with `Identifier.fromNumber`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHex, type Rng, type SuiteId } from '../src/index.js';

export const VECTOR_DIR = fileURLToPath(new URL('./vectors/', import.meta.url));

/** The raw bytes of a vendored file, by its path under test/vectors/. */
export function vectorBytes(path: string): Buffer {
  return readFileSync(join(VECTOR_DIR, path));
}

export function vectorJson<T>(path: string): T {
  return JSON.parse(vectorBytes(path).toString('utf8')) as T;
}

/** Every vendored file, as a path under test/vectors/ with forward slashes. */
export function listVectorFiles(dir = VECTOR_DIR): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listVectorFiles(full));
    else out.push(relative(VECTOR_DIR, full).split('\\').join('/'));
  }
  return out.sort();
}

/** RFC 9591 Appendix E files and the Glacis suite each one exercises. */
export const RFC_FILES: Record<string, SuiteId> = {
  'frost-ed25519-sha512.json': 'ed25519',
  'frost-ed448-shake256.json': 'ed448',
  'frost-p256-sha256.json': 'p256',
  'frost-ristretto255-sha512.json': 'ristretto255',
  'frost-secp256k1-sha256.json': 'secp256k1',
};

/** frost-rs crates and the Glacis suite each one exercises. */
export const CRATES: Record<string, SuiteId> = {
  'frost-ed25519': 'ed25519',
  'frost-ed448': 'ed448',
  'frost-p256': 'p256',
  'frost-ristretto255': 'ristretto255',
  'frost-secp256k1': 'secp256k1',
  'frost-secp256k1-tr': 'secp256k1-tr',
};

/** The signing-vector layout shared by the RFC files and frost-rs `vectors*.json`. */
export interface SigningVector {
  config: { MAX_PARTICIPANTS: string; MIN_PARTICIPANTS: string; NUM_PARTICIPANTS: string };
  inputs: {
    participant_list: number[];
    group_secret_key: string;
    /** RFC files. */
    group_public_key?: string;
    /** frost-rs files. */
    verifying_key_key?: string;
    message: string;
    share_polynomial_coefficients: string[];
    participant_shares: { identifier: number; participant_share: string }[];
  };
  round_one_outputs: {
    outputs: {
      identifier: number;
      hiding_nonce_randomness: string;
      binding_nonce_randomness: string;
      hiding_nonce: string;
      binding_nonce: string;
      hiding_nonce_commitment: string;
      binding_nonce_commitment: string;
      binding_factor_input: string;
      binding_factor: string;
    }[];
  };
  round_two_outputs: { outputs: { identifier: number; sig_share: string }[] };
  final_output: { sig: string };
}

export interface DkgParticipantVector {
  identifier: number;
  signing_key: string;
  coefficient: string;
  vss_commitments: string[];
  proof_of_knowledge: string;
  /** Sender id → the share this participant received from that sender. */
  signing_shares: Record<string, string>;
  verifying_share: string;
  signing_share: string;
}

export interface DkgVector {
  config: { MAX_PARTICIPANTS: number; MIN_PARTICIPANTS: number };
  inputs: { verifying_key: string } & Record<string, DkgParticipantVector | string>;
}

/** The participants of a DKG vector, by their numeric identifier. */
export function dkgParticipants(v: DkgVector): DkgParticipantVector[] {
  return Object.entries(v.inputs)
    .filter(([k]) => /^\d+$/.test(k))
    .map(([, p]) => p as DkgParticipantVector);
}

/**
 * An RNG that hands out the given chunks in order, like noble's test BufferRNG. It insists that
 * each request is exactly as long as the next chunk, so a change in how noble draws randomness
 * shows up as a test failure rather than as silently different nonces.
 */
export function bufferRng(chunksHex: readonly string[]): Rng & { remaining(): number } {
  const chunks = chunksHex.map((h) => fromHex(h));
  let next = 0;
  const rng = (n = 32) => {
    const chunk = chunks[next++];
    if (chunk === undefined) throw new Error('bufferRng: exhausted');
    if (chunk.length !== n) throw new Error(`bufferRng: asked for ${n} bytes, next chunk has ${chunk.length}`);
    return chunk.slice();
  };
  return Object.assign(rng, { remaining: () => chunks.length - next });
}
