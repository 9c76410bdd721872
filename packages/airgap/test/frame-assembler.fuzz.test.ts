/**
 * The frame assembler under fast-check: whatever sequence of strings a camera reports, each push
 * returns progress or throws an AirgapError with a listed code — never another exception — and a
 * transfer that completes yields exactly the bytes that were sent. Inputs mix real frames of two
 * transfers (shuffled, repeated, case-changed, edited) with arbitrary text, `ur:`-shaped text and
 * frames whose bytewords and CRC are valid but whose CBOR header is anything at all.
 * GLACIS_FUZZ_RUNS counts frames, in sequences of 10 to 30: `npm test` pushes at least 300
 * (default), `npm run fuzz` at least 100,000.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AIRGAP_ERROR_CODES, AirgapError, createFrameAssembler, encodeBundleFrames } from '../src/index.js';
import { seededBytes } from './fixtures.js';
import { partCbor, partFrame, singlePart } from './ur-parts.js';

const RUNS = Number(process.env.GLACIS_FUZZ_RUNS ?? 300);
const CODES: readonly string[] = AIRGAP_ERROR_CODES;

const dataA = seededBytes('fuzz a')(1500);
const dataB = seededBytes('fuzz b')(700);
const framesA = encodeBundleFrames(dataA, { density: 'low', redundancy: 1 });
const framesB = encodeBundleFrames(dataB, { density: 'low', redundancy: 1 });
const single = encodeBundleFrames(dataB.subarray(0, 60), { density: 'low' });

const u32 = fc.oneof(fc.nat(20), fc.nat(300), fc.nat(0xffffffff));

const headerFrameArb = fc
  .record({
    seqNum: u32,
    seqLen: u32,
    messageLen: u32,
    checksum: u32,
    fragment: fc.uint8Array({ maxLength: 40 }),
    path: fc.option(fc.tuple(fc.nat(0xffffffff), fc.nat(0xffffffff))),
  })
  .map(({ path, ...p }) => partFrame(p, path === null ? undefined : `${path[0]}-${path[1]}`));

const editedArb = fc
  .record({ frame: fc.constantFrom(...framesA, ...framesB), at: fc.nat(), ch: fc.constantFrom('a', 'Z', '/', '-', '1', ' ', 'é', '') })
  .map(({ frame, at, ch }) => frame.slice(0, at % frame.length) + ch + frame.slice((at % frame.length) + 1));

/** A frame, and the bytes it carries whole if it is a single-frame transfer made here. */
interface Shown {
  text: string;
  carries?: Uint8Array;
}

const text = (a: fc.Arbitrary<string>): fc.Arbitrary<Shown> => a.map((t) => ({ text: t }));

const frameArb: fc.Arbitrary<Shown> = fc.oneof(
  { weight: 6, arbitrary: text(fc.constantFrom(...framesA)) },
  { weight: 1, arbitrary: text(fc.constantFrom(...framesA).map((f) => f.toLowerCase())) },
  { weight: 1, arbitrary: text(fc.constantFrom(...framesB, ...single)) },
  { weight: 2, arbitrary: text(editedArb) },
  { weight: 2, arbitrary: text(headerFrameArb) },
  // Random CBOR as a single-frame transfer: when it happens to be a byte string, it is a valid transfer of its content.
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }).map((b) => ({ text: singlePart(b), carries: b })) },
  { weight: 1, arbitrary: text(fc.uint8Array({ maxLength: 60 }).map((b) => singlePart(b, 'crypto-psbt'))) },
  {
    weight: 1,
    arbitrary: text(
      fc
        .tuple(fc.nat(40), fc.nat(40), fc.uint8Array({ maxLength: 30 }))
        .map(([n, l, b]) => singlePart(partCbor({ seqNum: n, seqLen: l, messageLen: b.length, checksum: 0, fragment: b }))),
    ),
  },
  { weight: 1, arbitrary: text(fc.string({ maxLength: 80 })) },
  { weight: 1, arbitrary: text(fc.stringMatching(/^(?:ur|UR):[a-z-]{0,8}\/(?:\d{1,3}-\d{1,3}\/)?[a-z]{0,40}$/)) },
);

/** True when `bundle` is what was sent, or the tail of a single frame's CBOR (a byte string's content is its tail). */
function wasSent(bundle: Uint8Array, shown: readonly Shown[]): boolean {
  if ([dataA, dataB, dataB.subarray(0, 60)].some((d) => Buffer.compare(d, bundle) === 0)) return true;
  return shown.some((s) => s.carries !== undefined && Buffer.compare(s.carries.subarray(s.carries.length - bundle.length), bundle) === 0);
}

describe('frame assembler fuzz', () => {
  it(
    `at least ${RUNS} frames: progress or a typed code, and a completed transfer is byte-exact`,
    () => {
      const outcomes = new Map<string, number>();
      let pushed = 0;
      fc.assert(
        fc.property(fc.array(frameArb, { minLength: 10, maxLength: 30 }), (frames) => {
          const a = createFrameAssembler({ maxBundleBytes: 4000 });
          for (const f of frames) {
            pushed++;
            let key: string;
            try {
              const p = a.push(f.text);
              key = p.state;
              if (p.state === 'complete') expect(wasSent(p.bundle, frames), 'completed with bytes nobody sent').toBe(true);
            } catch (e) {
              if (!(e instanceof AirgapError) || !CODES.includes(e.code)) throw e;
              key = e.code;
            }
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          }
        }),
        { numRuns: Math.ceil(RUNS / 10) },
      );
      if (process.env.GLACIS_FUZZ_VERBOSE) console.log(pushed, Object.fromEntries(outcomes));
      expect(pushed).toBeGreaterThanOrEqual(RUNS);
      // Every outcome at fuzz scale; at npm-test scale, the ones a few hundred frames reach with near certainty.
      const reached =
        RUNS >= 10_000
          ? [
              'collecting',
              'complete',
              ...CODES.filter(
                (c) => !['airgap_file_exists', 'airgap_incomplete', 'airgap_image_unreadable', 'airgap_too_many_frames'].includes(c),
              ),
            ]
          : ['collecting', 'airgap_frame_malformed', 'airgap_frame_wrong_type'];
      for (const k of reached) expect(outcomes.has(k), `no input reached ${k}`).toBe(true);
    },
    60_000 + RUNS * 5,
  );
});
