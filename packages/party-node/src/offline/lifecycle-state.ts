/**
 * What the offline party keeps of a refresh, repair or reshare between trips to the vault
 * (offline-lifecycle.ts), sealed under the keystore's master key like a share, in
 * `lifecycle-offline/`:
 *
 *   <session>.json        the session: the coordinator's start as received, this party's secret
 *                         seed (while its part runs), every peer message it accepted (in order),
 *                         every envelope it sent; replaced atomically
 *   <session>.test-nonce  the one unused successor test nonce of the session (single use: deleted
 *                         durably before the test share is computed)
 *
 * Never in a backup (backup/backup.ts holds shares only). Session ids reach file names: only the
 * characters a session id may hold.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  createSigner,
  envelopeSchema,
  fromHex,
  type KeyShare,
  lifecycleOperationSchema,
  type NonceCommitmentWire,
  type PreprocessedNonce,
  type Rng,
  sessionIdSchema,
  toHex,
} from '@glacis/protocol';
import { z } from 'zod';
import { PartyError } from '../errors.js';
import { createFileExclusive, removeFileDurably, removeTempFiles, writeFileAtomic } from '../fs-atomic.js';
import type { Keystore } from '../keystore/keystore.js';

export const OFFLINE_LIFECYCLE_DIR = 'lifecycle-offline';
const STATE_EXT = '.json';
const NONCE_EXT = '.test-nonce';

const scalarHex = z.string().regex(/^(?:[0-9a-f]{2}){16,64}$/);

/** How this party's part of a session ended; null while it runs. */
export const SESSION_OUTCOMES = ['confirmed', 'dealt', 'helped', 'repaired', 'failed'] as const;
export type SessionOutcome = (typeof SESSION_OUTCOMES)[number];

const stateSchema = z.strictObject({
  v: z.literal(1),
  sessionId: sessionIdSchema,
  keyId: sessionIdSchema,
  operation: lifecycleOperationSchema,
  /** The coordinator's start, as it arrived: the machine is re-created from it at every trip. */
  start: envelopeSchema,
  /** When this party joined (ms): its deadline counts from here. */
  startedAt: z.number().int().nonnegative(),
  outcome: z.enum(SESSION_OUTCOMES).nullable(),
  /** SECRET: the machine's randomness (offline/seeded-rng.ts). Set exactly while `outcome` is null. */
  seed: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  /** The peer messages the machine accepted, in order (while it runs). */
  inputs: z.array(envelopeSchema),
  /** Every envelope this party sent in the session and still stands by: sent again at every trip. */
  sent: z.array(envelopeSchema),
  /** The digest of the last test package answered with a share, and the signature of the last test request answered. */
  testPackage: z.string().nullable(),
  testRequest: z.string().nullable(),
});
export type SessionState = z.infer<typeof stateSchema>;

const nonceSchema = z.strictObject({
  v: z.literal(1),
  sessionId: sessionIdSchema,
  commitment: z.strictObject({ hiding: z.string(), binding: z.string() }),
  hiding: scalarHex,
  binding: scalarHex,
});

export interface LifecycleStates {
  /** Every session kept here. */
  list(): SessionState[];
  /** Replaces the session's file (atomic, fsync'd). */
  save(s: SessionState): void;
  /** Deletes the session's file and its test nonce, durably. */
  remove(sessionId: string): void;
  /**
   * A fresh test nonce pair of `share` from `rng` (the real one), sealed on disk before its
   * commitment is returned; the session's unused one, if any, is deleted first.
   */
  freshNonce(sessionId: string, share: KeyShare, rng: Rng): NonceCommitmentWire;
  /** The session's unused test nonce. SECRET. */
  nonce(sessionId: string): PreprocessedNonce | undefined;
  /** Deletes the session's test nonce, durably. */
  dropNonce(sessionId: string): void;
}

export function openLifecycleStates(keystore: Keystore): LifecycleStates {
  const dir = join(keystore.dataDir, OFFLINE_LIFECYCLE_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  removeTempFiles(dir);
  const pathOf = (sessionId: string, ext: string) => {
    if (!sessionIdSchema.safeParse(sessionId).success) throw new RangeError('invalid lifecycle session id');
    return join(dir, `${sessionId}${ext}`);
  };
  const statePurpose = (sessionId: string) => `lifecycle-offline:${sessionId}`;
  const noncePurpose = (sessionId: string) => `lifecycle-test-nonce:${sessionId}`;

  function load(sessionId: string): SessionState {
    const path = pathOf(sessionId, STATE_EXT);
    const parsed = stateSchema.safeParse(JSON.parse(keystore.openSealedFile(path, statePurpose(sessionId))));
    if (!parsed.success || parsed.data.sessionId !== sessionId)
      throw new PartyError('corrupt_file', `${path}: not this lifecycle session's state; delete it to abandon the session`);
    return parsed.data;
  }

  function nonce(sessionId: string): PreprocessedNonce | undefined {
    const path = pathOf(sessionId, NONCE_EXT);
    if (!existsSync(path)) return undefined;
    const parsed = nonceSchema.safeParse(JSON.parse(keystore.openSealedFile(path, noncePurpose(sessionId))));
    if (!parsed.success || parsed.data.sessionId !== sessionId)
      throw new PartyError('corrupt_file', `${path}: not this session's test nonce; delete it (the test asks for a fresh one)`);
    return { commitment: parsed.data.commitment, nonces: { hiding: fromHex(parsed.data.hiding), binding: fromHex(parsed.data.binding) } };
  }

  const dropNonce = (sessionId: string) => removeFileDurably(pathOf(sessionId, NONCE_EXT));

  return {
    list: () =>
      readdirSync(dir)
        .filter((f) => f.endsWith(STATE_EXT))
        .map((f) => load(f.slice(0, -STATE_EXT.length))),
    save: (s) => writeFileAtomic(pathOf(s.sessionId, STATE_EXT), keystore.sealText(statePurpose(s.sessionId), s)),
    remove(sessionId) {
      dropNonce(sessionId);
      const path = pathOf(sessionId, STATE_EXT);
      if (existsSync(path)) removeFileDurably(path);
    },
    freshNonce(sessionId, share, rng) {
      dropNonce(sessionId);
      const { commitment, nonces } = createSigner(share, rng, { maxPending: 1 }).preprocess();
      const text = keystore.sealText(noncePurpose(sessionId), {
        v: 1,
        sessionId,
        commitment,
        hiding: toHex(nonces.hiding),
        binding: toHex(nonces.binding),
      });
      nonces.hiding.fill(0);
      nonces.binding.fill(0);
      // Exclusive: a nonce file is never written over (the one before was deleted above).
      if (!createFileExclusive(pathOf(sessionId, NONCE_EXT), text)) throw new RangeError('test nonce file appeared while being replaced');
      return commitment;
    },
    nonce,
    dropNonce,
  };
}
