/**
 * The keystore's one entry point for replacing a live share: two phases, crash-safe at every step
 * (DESIGN.md invariant 6). A refresh or reshare **stages** the successor it derived beside the
 * live share (`staged/<keyId>.json`, sealed) before its confirmation leaves; the staged share is
 * never live. Once the successor's certificate is checked, **commit** switches:
 *
 *   1. decide   the certificate is written into the staged file       (crash: staged, decided)
 *   2. switch   keys/<keyId>.json is replaced by the successor, atomically   (crash: new live)
 *   3. erase    the old file's bytes are overwritten before they are released
 *   4. clean    the staged file is erased
 *
 * A crash before 1 leaves the old share live and the successor staged (the certificate can still
 * commit it, or it is discarded); a crash after 1 is finished at the next open: the decision is on
 * disk, so the switch is redone. Either way exactly one share is live, never both and never none.
 * A repaired share that replaces a stale or damaged one goes through the same steps, decided at
 * once (its proof is the repair itself: it matches its verifying share).
 *
 * A party that reshared a key away **retires** it: a public tombstone first, then the share file
 * erased; a crash in between is finished at the next open.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  decodeKeyShare,
  type Envelope,
  encodeKeyShare,
  envelopeSchema,
  type KeyShare,
  keyPackageHash,
  keyShareRecordSchema,
  type PublicKeyPackage,
  publicKeyPackageSchema,
  sessionIdSchema,
} from '@glacis/protocol';
import { z } from 'zod';
import type { CrashPoint } from '../crash-points.js';
import { isPartyError, PartyError } from '../errors.js';
import { eraseFile, removeTempFiles, replaceFileErasingOld, writeFileAtomic } from '../fs-atomic.js';
import type { StoredShare } from './keystore.js';

const STAGED_DIR = 'staged';
const RETIRED_DIR = 'retired';

/** The operations that replace a share. */
export type SuccessionOperation = 'refresh' | 'reshare' | 'repair';

const stagedFileSchema = z.strictObject({
  v: z.literal(1),
  sessionId: sessionIdSchema,
  operation: z.enum(['refresh', 'reshare', 'repair']),
  /** keyPackageHash of the generation this one succeeds (for a repair: of the one it repairs). */
  predecessor: z.string(),
  /** That generation's public package: what the certificate is checked against. */
  predecessorKey: publicKeyPackageSchema,
  generation: z.number().int().nonnegative(),
  share: keyShareRecordSchema,
  /** The lifecycle_confirm this party signed for it (null for a repair). */
  confirm: envelopeSchema.nullable(),
  /** Set when the switch is decided: the certificate (empty for a repair). */
  decided: z.array(envelopeSchema).nullable(),
});

const tombstoneSchema = z.strictObject({
  v: z.literal(1),
  keyId: sessionIdSchema,
  generation: z.number().int().nonnegative(),
  sessionId: sessionIdSchema,
  at: z.string(),
});

/** A successor waiting for its certificate. Secret: holds the new share. */
export interface StagedSuccessor {
  keyId: string;
  sessionId: string;
  operation: SuccessionOperation;
  predecessor: string;
  predecessorKey: PublicKeyPackage;
  generation: number;
  share: KeyShare;
  confirm: Envelope | null;
  decided: Envelope[] | null;
}

/** What a new staged successor records. */
export type NewStaged = Omit<StagedSuccessor, 'keyId' | 'decided'>;

/** A key reshared away from this party. */
export type Tombstone = z.infer<typeof tombstoneSchema>;

export interface Successions {
  /**
   * Stages `s` beside the live share of its key. Throws `successor_staged` (changing nothing) when
   * a successor of that key is staged already: a party confirms one successor per generation.
   */
  stage(s: NewStaged): void;
  /** The staged successor of `keyId`, if any. */
  staged(keyId: string): StagedSuccessor | undefined;
  /** Every staged successor. */
  list(): StagedSuccessor[];
  /**
   * The switch: the staged successor of `sessionId` becomes the live share, activated by
   * `certificate` (checked by the caller); the old share is erased. Throws `no_staged_successor`.
   */
  commit(keyId: string, sessionId: string, certificate: Envelope[]): StoredShare;
  /** Erases a staged successor that can never be certified; false (nothing changed) if none of that session. */
  discard(keyId: string, sessionId: string): boolean;
  /**
   * A share rebuilt by a repair: created when none is stored; replacing a stored share only when
   * that one is of another generation or unreadable. Throws `key_exists` for an intact share of
   * the same generation: that one is never replaced.
   */
  storeRepaired(share: KeyShare, generation: number, sessionId: string): StoredShare;
  /** Erases the live share of a key this party no longer holds (reshared away), after its tombstone. */
  retire(keyId: string, generation: number, sessionId: string, at: Date): void;
  /** The tombstone of a retired key. */
  retired(keyId: string): Tombstone | undefined;
}

/** What successions need of the keystore that owns them. */
export interface SuccessionDeps {
  dataDir: string;
  sealedText(purpose: string, value: unknown): string;
  readSealed(path: string, purpose: string): string;
  keyPath(keyId: string): string;
  readKeyFile(path: string, keyId: string): StoredShare;
  keyFileText(s: StoredShare): string;
  createKeyFile(s: StoredShare): void;
  crash(point: CrashPoint): void;
}

/** Opens the staged and retired directories, finishing what a crash interrupted. */
export function openSuccessions(d: SuccessionDeps): Successions {
  const stagedDir = join(d.dataDir, STAGED_DIR);
  const retiredDir = join(d.dataDir, RETIRED_DIR);
  for (const dir of [stagedDir, retiredDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    removeTempFiles(dir);
  }
  const stagedPath = (keyId: string) => join(stagedDir, basename(d.keyPath(keyId)));
  const tombstonePath = (keyId: string) => join(retiredDir, basename(d.keyPath(keyId)));
  const purpose = (keyId: string) => `staged:${keyId}`;

  function read(keyId: string): StagedSuccessor | undefined {
    const path = stagedPath(keyId);
    if (!existsSync(path)) return undefined;
    let f: z.infer<typeof stagedFileSchema>;
    try {
      f = stagedFileSchema.parse(JSON.parse(d.readSealed(path, purpose(keyId))));
    } catch (e) {
      if (isPartyError(e)) throw e;
      throw new PartyError('corrupt_file', `${path}: decrypted but malformed (${(e as Error).message})`);
    }
    return { keyId, ...f, share: decodeKeyShare(f.share) };
  }

  function write(s: StagedSuccessor): void {
    const { keyId, share, ...rest } = s;
    writeFileAtomic(stagedPath(keyId), d.sealedText(purpose(keyId), { v: 1, ...rest, share: encodeKeyShare(share) }));
  }

  /** Steps 2–4 of a decided switch; idempotent, so a crash anywhere is finished by running it again. */
  function finish(s: StagedSuccessor): StoredShare {
    const live: StoredShare = { share: s.share, status: 'active', certificate: s.decided, generation: s.generation };
    const path = d.keyPath(s.keyId);
    if (!liveIs(path, s)) {
      replaceFileErasingOld(path, d.keyFileText(live));
      d.crash('lifecycle-switched');
    }
    eraseFile(stagedPath(s.keyId));
    return live;
  }

  /** True when the live file already holds `s`'s share (step 2 ran). */
  function liveIs(path: string, s: StagedSuccessor): boolean {
    if (!existsSync(path)) return false;
    try {
      const cur = d.readKeyFile(path, s.keyId);
      return cur.generation === s.generation && keyPackageHash(cur.share.public) === keyPackageHash(s.share.public);
    } catch {
      return false; // unreadable: the switch replaces it
    }
  }

  /** Erases the share of a retired generation (a later generation of the key, received since, stays). */
  function retireFinish(t: Tombstone): void {
    const path = d.keyPath(t.keyId);
    if (!existsSync(path)) return;
    let generation: number | undefined;
    try {
      generation = d.readKeyFile(path, t.keyId).generation;
    } catch {
      generation = undefined; // unreadable: it is the retired share, half erased by a crash
    }
    if (generation === undefined || generation <= t.generation) eraseFile(path);
  }

  // Recovery: a decided switch is finished; an undecided one stays staged; a retirement is finished.
  for (const f of readdirSync(stagedDir).filter((f) => f.endsWith('.json'))) {
    const s = read(f.slice(0, -'.json'.length));
    if (s?.decided) finish(s);
  }
  for (const f of readdirSync(retiredDir).filter((f) => f.endsWith('.json'))) {
    const t = readTombstone(join(retiredDir, f));
    if (t) retireFinish(t);
  }

  return {
    stage(n) {
      const keyId = n.share.keyId;
      if (existsSync(stagedPath(keyId))) {
        throw new PartyError('successor_staged', `a successor of key ${keyId} is staged already; it is committed or discarded first`);
      }
      write({ ...n, keyId, decided: null });
    },
    staged: read,
    list() {
      return readdirSync(stagedDir)
        .filter((f) => f.endsWith('.json'))
        .flatMap((f) => read(f.slice(0, -'.json'.length)) ?? []);
    },
    commit(keyId, sessionId, certificate) {
      const s = read(keyId);
      if (s?.sessionId !== sessionId)
        throw new PartyError('no_staged_successor', `no successor of key ${keyId} staged by session ${sessionId}`);
      const decided = { ...s, decided: certificate };
      write(decided);
      d.crash('lifecycle-decided');
      return finish(decided);
    },
    discard(keyId, sessionId) {
      const s = read(keyId);
      if (s?.sessionId !== sessionId || s.decided) return false;
      eraseFile(stagedPath(keyId));
      return true;
    },
    storeRepaired(share, generation, sessionId) {
      const keyId = share.keyId;
      const path = d.keyPath(keyId);
      const live: StoredShare = { share, status: 'active', certificate: null, generation };
      if (!existsSync(path)) {
        d.createKeyFile(live);
        return live;
      }
      let current: StoredShare | undefined;
      try {
        current = d.readKeyFile(path, keyId);
      } catch (e) {
        if (!isPartyError(e, 'corrupt_file')) throw e;
      }
      if (current && keyPackageHash(current.share.public) === keyPackageHash(share.public)) {
        throw new PartyError('key_exists', `an intact share of key ${keyId} of this generation is stored; it is never replaced`);
      }
      const staged: StagedSuccessor = {
        keyId,
        sessionId,
        operation: 'repair',
        predecessor: keyPackageHash(share.public),
        predecessorKey: share.public,
        generation,
        share,
        confirm: null,
        decided: [],
      };
      // Decided at once: a repaired share is proven by the repair (it matches its verifying share).
      write(staged);
      d.crash('lifecycle-decided');
      return { ...finish(staged), certificate: null };
    },
    retire(keyId, generation, sessionId, at) {
      const t: Tombstone = { v: 1, keyId, generation, sessionId, at: at.toISOString() };
      writeFileAtomic(tombstonePath(keyId), `${JSON.stringify(t)}\n`);
      d.crash('lifecycle-retired');
      retireFinish(t);
    },
    retired: (keyId) => readTombstone(tombstonePath(keyId)),
  };
}

/** A tombstone file, or undefined when there is none. */
function readTombstone(path: string): Tombstone | undefined {
  if (!existsSync(path)) return undefined;
  const t = tombstoneSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!t.success) throw new PartyError('corrupt_file', `${path}: not a retired-key record`);
  return t.data;
}
