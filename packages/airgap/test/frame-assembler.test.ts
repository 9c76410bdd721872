/**
 * The frame assembler against what a camera can be shown: frames in any order, missing,
 * repeated, from another transfer or another application, damaged, or forged. Each refusal has
 * its code; what completes is byte-identical to what was sent.
 */
import { UR, URDecoder, UREncoder } from '@ngraveio/bc-ur';
import { describe, expect, it } from 'vitest';
import {
  AirgapError,
  type AirgapErrorCode,
  createFrameAssembler,
  encodeBundleFrames,
  type FrameAssembler,
  MAX_QR_FRAGMENTS,
} from '../src/index.js';
import { requestBundle, seededBytes, shuffled } from './fixtures.js';
import { parseFrame, partFrame, singlePart } from './ur-parts.js';

const bytes = (n: number, seed = 'payload') => seededBytes(seed)(n);

function expectCode(f: () => unknown, code: AirgapErrorCode): AirgapError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(AirgapError);
  expect((caught as AirgapError).code).toBe(code);
  return caught as AirgapError;
}

/** Pushes frames until complete; returns the bundle, or undefined if they ran out. */
function feed(a: FrameAssembler, frames: readonly string[]): Uint8Array | undefined {
  for (const f of frames) {
    const p = a.push(f);
    if (p.state === 'complete') return p.bundle;
  }
  return undefined;
}

describe('reassembly', () => {
  it('frames shuffled with 20 % dropped complete byte-identical (10 different shuffles)', () => {
    const bundle = requestBundle(10);
    const frames = encodeBundleFrames(bundle, { density: 'medium' });
    for (let seed = 0; seed < 10; seed++) {
      const kept = shuffled(frames, `shuffle ${seed}`).slice(0, Math.floor(frames.length * 0.8));
      const back = feed(createFrameAssembler(), kept);
      expect(back && Buffer.compare(back, bundle), `seed ${seed}`).toBe(0);
    }
  });

  it('a bundle that fits one fragment is one frame', () => {
    const frames = encodeBundleFrames(bytes(80), { density: 'medium' });
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatch(/^UR:BYTES\/[A-Z]+$/);
    expect(feed(createFrameAssembler(), frames)).toEqual(bytes(80));
  });

  it('repeated frames (a camera sees each several times) are recognised and not counted', () => {
    const frames = encodeBundleFrames(bytes(3000), { density: 'low' });
    const a = createFrameAssembler();
    expect(a.push(frames[3] as string)).toMatchObject({ state: 'collecting', fresh: true, frames: 1 });
    expect(a.push((frames[3] as string).toLowerCase())).toMatchObject({ state: 'collecting', fresh: false, frames: 1 });
  });

  it('after completion, further frames change nothing', () => {
    const frames = encodeBundleFrames(bytes(3000), { density: 'low' });
    const a = createFrameAssembler();
    const done = feed(a, frames);
    expect(a.push(frames[0] as string)).toEqual({ state: 'complete', bundle: done });
    expect(a.push('not even a frame')).toEqual({ state: 'complete', bundle: done });
  });

  it('result() before completion: airgap_incomplete', () => {
    const frames = encodeBundleFrames(bytes(3000), { density: 'low' });
    const a = createFrameAssembler();
    expectCode(() => a.result(), 'airgap_incomplete');
    a.push(frames[0] as string);
    expectCode(() => a.result(), 'airgap_incomplete');
  });
});

describe('standard UR, readable by existing tools', () => {
  it("bc-ur's reference decoder alone reassembles our frames (type bytes, a CBOR byte string)", () => {
    const bundle = requestBundle(3);
    const reference = new URDecoder();
    for (const f of shuffled(encodeBundleFrames(bundle, { density: 'low' }), 'ref')) {
      reference.receivePart(f);
      if (reference.isComplete()) break;
    }
    expect(reference.isSuccess()).toBe(true);
    expect(reference.resultUR().type).toBe('bytes');
    expect(Buffer.compare(reference.resultUR().decodeCBOR(), bundle)).toBe(0);
  });

  it("frames from bc-ur's own encoder, lower-case as it writes them, are read by ours", () => {
    const data = bytes(5000);
    const enc = new UREncoder(UR.fromBuffer(Buffer.from(data)), 180, 0, 10);
    const frames = Array.from({ length: 2 * enc.fragmentsLength }, () => enc.nextPart());
    expect(frames[0]).toMatch(/^ur:bytes\/1-\d+\/[a-z]+$/);
    expect(feed(createFrameAssembler(), shuffled(frames, 'lower').slice(0, Math.floor(frames.length * 0.8)))).toEqual(data);
  });
});

describe('refused frames', () => {
  const frames = encodeBundleFrames(bytes(3000), { density: 'low' });
  const first = frames[0] as string;
  const p = parseFrame(first);

  it("another application's QR code (a ur:crypto-psbt): airgap_frame_wrong_type", () => {
    expectCode(() => createFrameAssembler().push(singlePart(Uint8Array.of(0x41, 0x00), 'crypto-psbt')), 'airgap_frame_wrong_type');
  });

  it('text that is not a UR frame, or a bytewords body whose CRC fails: airgap_frame_malformed', () => {
    const a = createFrameAssembler();
    for (const bad of [
      '',
      'hello',
      'UR:BYTES/',
      'ur:bytes/1-0/lpad',
      'ur:bytes/0-3/lpad',
      `${first}A`,
      first.replace(/.$/, (c) => (c === 'A' ? 'E' : 'A')),
    ]) {
      expectCode(() => a.push(bad), 'airgap_frame_malformed');
    }
    const flipped = `${first.slice(0, 40)}${first[40] === 'Y' ? 'D' : 'Y'}${first.slice(41)}`;
    expectCode(() => a.push(flipped), 'airgap_frame_malformed');
  });

  it('a header that contradicts its path or its own sizes: airgap_frame_malformed', () => {
    const a = createFrameAssembler();
    expectCode(() => a.push(partFrame(p, `${p.seqNum + 1}-${p.seqLen}`)), 'airgap_frame_malformed');
    expectCode(() => a.push(partFrame({ ...p, messageLen: p.fragment.length * p.seqLen + 1 })), 'airgap_frame_malformed');
    expectCode(() => a.push(partFrame({ ...p, fragment: new Uint8Array(0) })), 'airgap_frame_malformed');
  });

  it(`a transfer claiming more than ${MAX_QR_FRAGMENTS} fragments or a message beyond the bound: airgap_too_large, before the decoder allocates anything`, () => {
    expectCode(
      () => createFrameAssembler().push(partFrame({ ...p, seqLen: 300, messageLen: 300 * p.fragment.length })),
      'airgap_too_large',
    );
    const small = createFrameAssembler({ maxBundleBytes: 4000 });
    expectCode(() => small.push(partFrame({ ...p, seqLen: 50, messageLen: 50 * p.fragment.length })), 'airgap_too_large');
  });

  it('a frame of another transfer in the middle of this one: airgap_frame_foreign', () => {
    const other = encodeBundleFrames(bytes(3000, 'other'), { density: 'low' });
    const a = createFrameAssembler();
    a.push(first);
    expectCode(() => a.push(other[1] as string), 'airgap_frame_foreign');
    expectCode(() => a.push(singlePart(Uint8Array.of(0x41, 0x00))), 'airgap_frame_foreign');
    // The assembler is not poisoned: this transfer still completes.
    expect(feed(a, frames)).toEqual(bytes(3000));
  });

  it('a forged frame with a valid header and CRC but wrong data: airgap_transfer_corrupt, and it stays refused', () => {
    const forged = { ...p, fragment: p.fragment.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    const a = createFrameAssembler();
    a.push(partFrame(forged));
    const err = expectCode(() => feed(a, frames.slice(1, p.seqLen)), 'airgap_transfer_corrupt');
    expect(() => a.push(frames[p.seqLen] as string)).toThrow(err);
    expect(() => a.result()).toThrow(err);
  });

  it('a source that shows frames that can never complete (all of degree 2 over 3 fragments): airgap_too_many_frames', () => {
    const data = bytes(30, 'three');
    const enc = new UREncoder(UR.fromBuffer(Buffer.from(data)), 11, 0, 10);
    expect(enc.fragmentsLength).toBe(3);
    const simple = Array.from({ length: 3 }, () => parseFrame(enc.nextPart()).fragment);
    const xor = (x: Uint8Array, y: Uint8Array) => x.map((b, i) => b ^ (y[i] as number));
    const pairs = [xor(simple[0]!, simple[1]!), xor(simple[1]!, simple[2]!), xor(simple[0]!, simple[2]!)];
    // Fountain frames that mix exactly two fragments: their XORs span only pairs, never one fragment.
    const degree2: string[] = [];
    while (degree2.length < 40) {
      const f = enc.nextPart();
      const frag = parseFrame(f).fragment;
      if (pairs.some((q) => Buffer.compare(q, frag) === 0)) degree2.push(f);
    }
    const a = createFrameAssembler();
    expectCode(() => feed(a, degree2), 'airgap_too_many_frames');
  });
});
