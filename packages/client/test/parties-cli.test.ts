/**
 * `glacis parties outbox` and `glacis parties inbox`, in-process against a fake coordinator that
 * serves an offline party's outbox and takes its inbox as the routes do (docs/offline.md), on
 * real temporary directories: the outbox carried out as a file or as QR frames that read back to
 * the same bytes, never over an earlier file or transfer and never a bundle for someone else;
 * the vault's answer carried in from a file or from photographed frames (shuffled, some lost) as
 * `{"bundle": hex}`, the coordinator's refusal (bundle_replayed) shown by its code, and nothing
 * posted that is not the named party's complete bundle.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBundleFrames, readFramesFromDir, writeQrTransfer } from '@glacis/airgap';
import { COORDINATOR, sealBundle, toHex } from '@glacis/protocol';
import { afterAll, describe, expect, test } from 'vitest';
import { coordinator, countingRng, party1, party3, signingPackages } from '../../protocol/test/bundle-fixtures.js';
import { runCli } from '../src/cli/run.js';
import { fakeFetch, problemAnswer, recordingIo, type SeenRequest } from './fixtures.js';

const env = { GLACIS_TOKEN: 'glc_admin' };
const work = mkdtempSync(join(tmpdir(), 'glacis-parties-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
/** A fresh path under the test's directory. */
const fresh = (name: string) => join(work, `${++n}-${name}`);

const items = (count: number, from = coordinator) =>
  signingPackages(count, from).map((envelope) => ({ kind: 'envelope' as const, envelope }));
/** What the coordinator seals for party-3: two signing packages. */
const outgoing = sealBundle(
  { recipient: 'party-3', sequence: 1_700_000_000_123, createdAt: 0, items: items(2) },
  coordinator,
  countingRng(1),
);
/** Party-3's answer. */
const answer = sealBundle({ recipient: COORDINATOR, sequence: 42, createdAt: 0, items: items(1, party3) }, party3, countingRng(2));

/** A coordinator whose outbox for party-3 holds `bundle`, and whose inbox takes each sequence once. */
function coordinatorServing(bundle: Uint8Array | null) {
  const accepted = new Set<string>();
  return fakeFetch((req: SeenRequest) => {
    if (req.method === 'GET' && req.path === '/v1/parties/party-3/outbox')
      return {
        status: 200,
        body: {
          partyId: 'party-3',
          bundle: bundle === null ? null : toHex(bundle),
          sequence: bundle === null ? null : 1_700_000_000_123,
          signatureIds: bundle === null ? [] : ['sig_a', 'sig_b'],
          keyIds: bundle === null ? [] : ['key_k'],
          operationIds: bundle === null ? [] : ['op_r'],
          items: bundle === null ? 0 : 3,
        },
      };
    if (req.method === 'POST' && req.path === '/v1/parties/party-3/inbox') {
      const hex = (JSON.parse(req.body ?? '{}') as { bundle: string }).bundle;
      if (accepted.has(hex)) return problemAnswer(409, 'bundle_replayed', 'bundle 42 from party-3: already past it');
      accepted.add(hex);
      return { status: 200, body: { partyId: 'party-3', sequence: 42, commitments: 0, answers: 1 } };
    }
    return problemAnswer(404, 'not_found', req.path);
  });
}

const run = (fetchFn: typeof fetch, ...argv: string[]) => {
  const r = recordingIo(fetchFn, {}, env);
  return runCli(argv, r.io).then((code) => ({ code, ...r }));
};

describe('glacis parties outbox', () => {
  test('to a file: the outbox bundle byte for byte, asked for as JSON with the bearer token', async () => {
    const { fetch, seen } = coordinatorServing(outgoing);
    const file = fresh('request.glacis-bundle');
    const r = await run(fetch, 'parties', 'outbox', 'party-3', '--out', file);
    expect(r.code, r.stderr()).toBe(0);
    expect(toHex(readFileSync(file))).toBe(toHex(outgoing));
    expect(seen.map((q) => [q.method, q.path, q.query.get('format'), q.headers.get('authorization')])).toEqual([
      ['GET', '/v1/parties/party-3/outbox', 'json', 'Bearer glc_admin'],
    ]);
    expect(JSON.parse(r.stdout())).toMatchObject({
      partyId: 'party-3',
      sender: COORDINATOR,
      recipient: 'party-3',
      sequence: 1_700_000_000_123,
      items: 3,
      signatureIds: ['sig_a', 'sig_b'],
      keyIds: ['key_k'],
      operationIds: ['op_r'],
      out: { file, bytes: outgoing.length },
    });
  });

  test('to a directory: QR frames at the chosen density and the animated pages, which read back to the same bytes', async () => {
    const { fetch } = coordinatorServing(outgoing);
    const dir = `${fresh('request')}/`;
    const r = await run(fetch, 'parties', 'outbox', 'party-3', '--out', dir, '--density', 'low');
    expect(r.code, r.stderr()).toBe(0);
    const frames = encodeBundleFrames(outgoing, { density: 'low' });
    const files = readdirSync(dir);
    expect(files.filter((f) => f.endsWith('.png'))).toHaveLength(frames.length);
    expect(files).toEqual(expect.arrayContaining(['animated.html', 'animated-noscript.html']));
    expect(JSON.parse(r.stdout()).out).toMatchObject({ dir, frames: frames.length, bytes: outgoing.length });
    expect(toHex((await readFramesFromDir(dir)).bundle)).toBe(toHex(outgoing));
  });

  test('never over an earlier file or transfer, and asks nothing (each read seals a new bundle)', async () => {
    const file = fresh('old.glacis-bundle');
    writeFileSync(file, 'an uncarried bundle');
    const dir = fresh('old-transfer');
    await writeQrTransfer(dir, answer, { title: 'an earlier trip' });
    for (const out of [file, dir, `${dir}/`]) {
      const { fetch, seen } = coordinatorServing(outgoing);
      const r = await run(fetch, 'parties', 'outbox', 'party-3', '--out', out);
      expect(r.code).toBe(64);
      expect(r.stderr()).toMatch(out === file ? /exists; not replaced/ : /already holds a transfer/);
      expect(seen).toEqual([]);
    }
    expect(readFileSync(file, 'utf8')).toBe('an uncarried bundle');
  });

  test('an empty outbox: nothing written, and said so', async () => {
    const { fetch } = coordinatorServing(null);
    const file = fresh('nothing.glacis-bundle');
    const r = await run(fetch, 'parties', 'outbox', 'party-3', '--out', file);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout())).toEqual({ partyId: 'party-3', items: 0, signatureIds: [], keyIds: [], operationIds: [], out: null });
    expect(r.stderr()).toContain('nothing waits for party-3');
    expect(readdirSync(work)).not.toContain(file.slice(work.length + 1));
  });

  test('a bundle the coordinator serves for another party as party-3’s outbox: refused (exit 3), nothing written', async () => {
    const forParty1 = sealBundle({ recipient: 'party-1', sequence: 7, createdAt: 0, items: items(1) }, coordinator, countingRng(3));
    const { fetch } = coordinatorServing(forParty1);
    const file = fresh('wrong.glacis-bundle');
    const r = await run(fetch, 'parties', 'outbox', 'party-3', '--out', file);
    expect(r.code).toBe(3);
    expect(r.stderr()).toContain('holds a bundle from coordinator to party-1: REFUSED');
    expect(readdirSync(work)).not.toContain(file.slice(work.length + 1));
  });

  test('a damaged outbox bundle: invalid_bundle with the bundle code (exit 1), nothing written', async () => {
    const damaged = outgoing.slice();
    damaged[30] = (damaged[30] as number) ^ 1;
    const { fetch } = coordinatorServing(damaged);
    const file = fresh('damaged.glacis-bundle');
    const r = await run(fetch, 'parties', 'outbox', 'party-3', '--out', file);
    expect(r.code).toBe(1);
    expect(r.stderr()).toContain('bundle_bad_checksum');
    expect(readdirSync(work)).not.toContain(file.slice(work.length + 1));
  });

  test('a density that does not exist is a usage error', async () => {
    const { fetch, seen } = coordinatorServing(outgoing);
    const r = await run(fetch, 'parties', 'outbox', 'party-3', '--out', fresh('x.glacis-bundle'), '--density', 'extreme');
    expect(r.code).toBe(64);
    expect(seen).toEqual([]);
  });
});

describe('glacis parties inbox', () => {
  test('from photos of the vault’s frames (shuffled, some lost): posted as {"bundle": hex}; the same bundle again shows bundle_replayed', async () => {
    const frames = fresh('answer');
    await writeQrTransfer(frames, answer, { title: 'party-3 answers', density: 'low' });
    const photos = fresh('photos');
    mkdirSync(photos);
    const pngs = readdirSync(frames).filter((f) => f.endsWith('.png'));
    expect(pngs.length).toBeGreaterThan(4);
    // Renamed as a camera names them, in another order, and one lost.
    for (const [i, f] of pngs.reverse().slice(1).entries())
      writeFileSync(join(photos, `IMG_${1000 + i}.png`), readFileSync(join(frames, f)));

    const { fetch, seen } = coordinatorServing(outgoing);
    const r = await run(fetch, 'parties', 'inbox', 'party-3', '--in', photos);
    expect(r.code, r.stderr()).toBe(0);
    expect(seen.map((q) => [q.method, q.path, q.headers.get('content-type')])).toEqual([
      ['POST', '/v1/parties/party-3/inbox', 'application/json'],
    ]);
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ bundle: toHex(answer) });
    expect(JSON.parse(r.stdout())).toMatchObject({ partyId: 'party-3', sequence: 42, answers: 1, commitments: 0 });

    const again = await run(fetch, 'parties', 'inbox', 'party-3', '--in', photos);
    expect(again.code).toBe(1);
    expect(again.stderr()).toContain('409 bundle_replayed');
  });

  test('from a bundle file', async () => {
    const file = fresh('answer.glacis-bundle');
    writeFileSync(file, answer);
    const { fetch, seen } = coordinatorServing(outgoing);
    const r = await run(fetch, 'parties', 'inbox', 'party-3', '--in', file);
    expect(r.code, r.stderr()).toBe(0);
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ bundle: toHex(answer) });
  });

  test('too few frames, another party’s bundle, or no such file: invalid_bundle (exit 1), nothing posted', async () => {
    const frames = fresh('few');
    await writeQrTransfer(frames, answer, { title: 'party-3 answers', density: 'low' });
    for (const f of readdirSync(frames)
      .filter((name) => name.endsWith('.png'))
      .slice(1))
      rmSync(join(frames, f));
    const other = fresh('party-1.glacis-bundle');
    writeFileSync(
      other,
      sealBundle({ recipient: COORDINATOR, sequence: 9, createdAt: 0, items: items(1, party1) }, party1, countingRng(4)),
    );
    for (const [input, why] of [
      [frames, 'airgap_incomplete'],
      [other, 'a bundle from party-1, not party-3'],
      [fresh('missing.glacis-bundle'), 'ENOENT'],
    ] as const) {
      const { fetch, seen } = coordinatorServing(outgoing);
      const r = await run(fetch, 'parties', 'inbox', 'party-3', '--in', input);
      expect(r.code).toBe(1);
      expect(r.stderr()).toContain(why);
      expect(seen).toEqual([]);
    }
  });
});
