/**
 * The keystore's two-phase entry point (keystore/successions.ts), DESIGN.md invariant 6: a staged
 * successor is never live; a switch is crash-safe at every step (a crash is simulated by the
 * crash hook throwing: every write before it is on disk, nothing after it ran); the old share is
 * overwritten on disk; nothing but a checked switch, a repair of a stale share or a retirement
 * ever removes a live share.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KeyShare, keyPackageHash, type Rng } from '@glacis/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { cluster } from '../../protocol/test/harness.js';
import type { CrashPoint } from '../src/crash-points.js';
import { initKeystore, type Keystore, openKeystore } from '../src/keystore/keystore.js';

const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));
const kek = { kind: 'kek' as const, kek: rng(32) };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const c = cluster('ed25519', 3, 2);
const share = c.share('p01');
/** Another generation of the same key (another sharing, same key id): what a successor looks like to the keystore. */
function generation(): KeyShare {
  const o = cluster('ed25519', 3, 2).share('p01');
  return { ...o, keyId: share.keyId, public: { ...o.public, keyId: share.keyId } };
}
const next = generation();

class Crash extends Error {}
/** A keystore whose crash hook "kills the process" at `at` (throws; nothing after it runs). */
function setup(at?: CrashPoint) {
  const dir = mkdtempSync(join(tmpdir(), 'glacis-succ-'));
  dirs.push(dir);
  initKeystore(dir, kek).createPending(share);
  const ks = openKeystore(dir, kek, {
    crash: (p) => {
      if (p === at) throw new Crash(p);
    },
  });
  ks.activate(share.keyId, []);
  const live = join(dir, 'keys', `${share.keyId}.json`);
  return { dir, ks, live, reopen: () => openKeystore(dir, kek) };
}
const stage = (ks: Keystore, s: KeyShare = next, sessionId = 'refresh-op_1') =>
  ks.successions.stage({
    sessionId,
    operation: 'refresh',
    predecessor: keyPackageHash(share.public),
    predecessorKey: share.public,
    generation: 1,
    share: s,
    confirm: null,
  });
const hashOf = (ks: Keystore) => keyPackageHash((ks.get(share.keyId) as { share: KeyShare }).share.public);

describe('staging a successor', () => {
  it('a staged successor is never live: the old share stays, byte for byte, until the switch', () => {
    const { ks, live, reopen } = setup();
    const before = readFileSync(live, 'utf8');
    stage(ks);
    expect(readFileSync(live, 'utf8')).toBe(before);
    expect(hashOf(reopen())).toBe(keyPackageHash(share.public));
    expect(reopen().successions.staged(share.keyId)).toMatchObject({ sessionId: 'refresh-op_1', generation: 1, decided: null });
  });

  it('a second successor of the same key is refused (successor_staged): one per generation', () => {
    const { ks } = setup();
    stage(ks);
    expect(() => stage(ks, generation(), 'refresh-op_2')).toThrowError(expect.objectContaining({ code: 'successor_staged' }));
    expect(ks.successions.staged(share.keyId)?.sessionId).toBe('refresh-op_1');
  });

  it('the staged share is sealed: its secret is nowhere on disk in clear', () => {
    const { dir, ks } = setup();
    stage(ks);
    const secret = Buffer.from(next.frostSecret.signingShare).toString('hex');
    for (const sub of ['staged', 'keys'])
      for (const f of readdirSync(join(dir, sub))) expect(readFileSync(join(dir, sub, f), 'utf8')).not.toContain(secret);
  });
});

describe('the switch', () => {
  it('commit makes the successor live (generation + 1), erases the old bytes and the staged file', () => {
    const { dir, ks, live } = setup();
    // A second name for the old file's inode: what was on disk under it after the switch.
    const oldInode = join(dir, 'old-inode');
    linkSync(live, oldInode);
    stage(ks);
    const stored = ks.successions.commit(share.keyId, 'refresh-op_1', []);
    expect(stored).toMatchObject({ status: 'active', generation: 1 });
    expect(hashOf(ks)).toBe(keyPackageHash(next.public));
    expect(ks.successions.staged(share.keyId)).toBeUndefined();
    expect(readdirSync(join(dir, 'staged'))).toEqual([]);
    expect(new Set(readFileSync(oldInode))).toEqual(new Set([0]));
  });

  it('commit needs the staged session: another session id changes nothing (no_staged_successor)', () => {
    const { ks } = setup();
    stage(ks);
    expect(() => ks.successions.commit(share.keyId, 'refresh-op_9', [])).toThrowError(
      expect.objectContaining({ code: 'no_staged_successor' }),
    );
    expect(hashOf(ks)).toBe(keyPackageHash(share.public));
  });

  const steps: { at: CrashPoint | 'before-commit'; live: 'old' | 'new'; staged: boolean }[] = [
    { at: 'before-commit', live: 'old', staged: true },
    { at: 'lifecycle-decided', live: 'new', staged: false },
    { at: 'lifecycle-switched', live: 'new', staged: false },
  ];
  for (const step of steps) {
    it(`a crash at ${step.at}: exactly one share live (the ${step.live} one) after restart, the successor ${step.staged ? 'still staged' : 'gone'}`, () => {
      const { ks, reopen } = setup(step.at === 'before-commit' ? undefined : step.at);
      stage(ks);
      if (step.at !== 'before-commit') expect(() => ks.successions.commit(share.keyId, 'refresh-op_1', [])).toThrow(Crash);
      const after = reopen();
      expect(after.list()).toHaveLength(1);
      expect(hashOf(after)).toBe(keyPackageHash((step.live === 'old' ? share : next).public));
      expect(after.get(share.keyId)?.generation).toBe(step.live === 'old' ? 0 : 1);
      expect(after.successions.staged(share.keyId) !== undefined).toBe(step.staged);
      // Restarting again changes nothing more.
      expect(hashOf(reopen())).toBe(hashOf(after));
    });
  }

  it('a staged successor that can never be certified is discarded; a decided one cannot be', () => {
    const { ks, reopen } = setup('lifecycle-decided');
    stage(ks);
    expect(ks.successions.discard(share.keyId, 'refresh-op_2')).toBe(false);
    expect(ks.successions.discard(share.keyId, 'refresh-op_1')).toBe(true);
    expect(ks.successions.staged(share.keyId)).toBeUndefined();
    stage(ks);
    expect(() => ks.successions.commit(share.keyId, 'refresh-op_1', [])).toThrow(Crash);
    expect(reopen().successions.discard(share.keyId, 'refresh-op_1')).toBe(false);
  });
});

describe('repaired shares', () => {
  it('are created when no share is stored', () => {
    const { ks, live } = setup();
    rmSync(live);
    expect(ks.successions.storeRepaired(share, 0, 'repair-op_1')).toMatchObject({ status: 'active', generation: 0 });
    expect(hashOf(ks)).toBe(keyPackageHash(share.public));
  });

  it('never replace an intact share of the same generation (key_exists, bytes unchanged)', () => {
    const { ks, live } = setup();
    const before = readFileSync(live, 'utf8');
    expect(() => ks.successions.storeRepaired(share, 0, 'repair-op_1')).toThrowError(expect.objectContaining({ code: 'key_exists' }));
    expect(readFileSync(live, 'utf8')).toBe(before);
  });

  it('replace a stale share (another generation) or an unreadable one, crash-safe', () => {
    for (const damage of ['stale', 'unreadable'] as const) {
      const { ks, live, reopen } = setup('lifecycle-decided');
      if (damage === 'unreadable') writeFileSync(live, '{"broken":');
      expect(() => ks.successions.storeRepaired(next, 3, 'repair-op_1')).toThrow(Crash);
      const after = reopen();
      expect(hashOf(after)).toBe(keyPackageHash(next.public));
      expect(after.get(share.keyId)?.generation).toBe(3);
    }
  });
});

describe('retiring a key reshared away', () => {
  it('erases the share after its tombstone; a crash in between is finished at the next open', () => {
    const { dir, ks, live, reopen } = setup('lifecycle-retired');
    expect(() => ks.successions.retire(share.keyId, 0, 'reshare-op_1', new Date())).toThrow(Crash);
    expect(existsSync(live)).toBe(true);
    const after = reopen();
    expect(existsSync(live)).toBe(false);
    expect(after.get(share.keyId)).toBeUndefined();
    expect(after.successions.retired(share.keyId)).toMatchObject({ generation: 0, sessionId: 'reshare-op_1' });
    expect(readdirSync(join(dir, 'keys'))).toEqual([]);
  });

  it('a later generation of a retired key (the party rejoined its committee) is not erased by the tombstone', () => {
    const { ks, reopen } = setup();
    ks.successions.retire(share.keyId, 0, 'reshare-op_1', new Date());
    ks.successions.storeRepaired(next, 2, 'repair-op_2');
    expect(reopen().get(share.keyId)?.generation).toBe(2);
  });
});
