/**
 * An independent reading of Bitcoin transactions for tests: a raw (segwit) transaction parser and
 * the BIP-341 key-path signature hash for SIGHASH_DEFAULT, written from the BIPs with nothing but
 * SHA-256 — no @scure/btc-signer — so a test can check what a validating node would check: the
 * final transaction's witness signatures against sighashes computed from the final bytes alone.
 * It is itself pinned to BIP-341's published wallet test vector (bitcoin-psbt.test.ts).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8 } from '../src/index.js';

export interface RawInput {
  /** Previous txid in internal (little-endian) byte order. */
  txid: Uint8Array;
  vout: number;
  scriptSig: Uint8Array;
  sequence: number;
  witness: Uint8Array[];
}
export interface RawOutput {
  amount: bigint;
  script: Uint8Array;
}
export interface RawTx {
  version: number;
  inputs: RawInput[];
  outputs: RawOutput[];
  lockTime: number;
}
export interface Prevout {
  amount: bigint;
  script: Uint8Array;
}

class Reader {
  private at = 0;
  constructor(private readonly b: Uint8Array) {}
  bytes(n: number): Uint8Array {
    if (this.at + n > this.b.length) throw new Error('raw tx: truncated');
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8 = () => this.bytes(1)[0] as number;
  u32 = () => new DataView(this.bytes(4).slice().buffer).getUint32(0, true);
  u64 = () => new DataView(this.bytes(8).slice().buffer).getBigUint64(0, true);
  varint(): number {
    const first = this.u8();
    if (first < 0xfd) return first;
    if (first === 0xfd) return new DataView(this.bytes(2).slice().buffer).getUint16(0, true);
    if (first === 0xfe) return this.u32();
    return Number(this.u64());
  }
  varbytes = () => this.bytes(this.varint());
  peek = () => this.b[this.at];
  done = () => this.at === this.b.length;
}

/** Parses a raw transaction, with or without the BIP-144 witness serialization. */
export function parseRawTx(hex: string): RawTx {
  const r = new Reader(fromHex(hex));
  const version = r.u32();
  let segwit = false;
  if (r.peek() === 0) {
    r.u8();
    if (r.u8() !== 1) throw new Error('raw tx: bad segwit flag');
    segwit = true;
  }
  const inputs: RawInput[] = Array.from({ length: r.varint() }, () => ({
    txid: r.bytes(32),
    vout: r.u32(),
    scriptSig: r.varbytes(),
    sequence: r.u32(),
    witness: [] as Uint8Array[],
  }));
  const outputs: RawOutput[] = Array.from({ length: r.varint() }, () => ({ amount: r.u64(), script: r.varbytes() }));
  if (segwit) for (const input of inputs) input.witness = Array.from({ length: r.varint() }, () => r.varbytes());
  const lockTime = r.u32();
  if (!r.done()) throw new Error('raw tx: trailing bytes');
  return { version, inputs, outputs, lockTime };
}

const u32le = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const u64le = (n: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
};
const varint = (n: number) => (n < 0xfd ? Uint8Array.of(n) : concatBytes(Uint8Array.of(0xfd), u32le(n).subarray(0, 2)));
const varbytes = (b: Uint8Array) => concatBytes(varint(b.length), b);

/** The legacy (witness-free) serialization, whose double SHA-256 reversed is the txid. */
export function txid(tx: RawTx): string {
  const body = concatBytes(
    u32le(tx.version),
    varint(tx.inputs.length),
    ...tx.inputs.map((i) => concatBytes(i.txid, u32le(i.vout), varbytes(i.scriptSig), u32le(i.sequence))),
    varint(tx.outputs.length),
    ...tx.outputs.map((o) => concatBytes(u64le(o.amount), varbytes(o.script))),
    u32le(tx.lockTime),
  );
  return toHex(sha256(sha256(body)).reverse());
}

function taggedHash(tag: string, msg: Uint8Array): Uint8Array {
  const t = sha256(utf8(tag));
  return sha256(concatBytes(t, t, msg));
}

/**
 * BIP-341 SigMsg and TapSighash for a key-path spend of input `index` with hash_type 0x00
 * (SIGHASH_DEFAULT: all inputs, all outputs), no annex.
 */
export function bip341KeyPathSighash(tx: RawTx, index: number, prevouts: readonly Prevout[]): Uint8Array {
  if (prevouts.length !== tx.inputs.length) throw new Error('one prevout per input');
  const sigMsg = concatBytes(
    Uint8Array.of(0x00), // epoch
    Uint8Array.of(0x00), // hash_type
    u32le(tx.version),
    u32le(tx.lockTime),
    sha256(concatBytes(...tx.inputs.map((i) => concatBytes(i.txid, u32le(i.vout))))), // sha_prevouts
    sha256(concatBytes(...prevouts.map((p) => u64le(p.amount)))), // sha_amounts
    sha256(concatBytes(...prevouts.map((p) => varbytes(p.script)))), // sha_scriptpubkeys
    sha256(concatBytes(...tx.inputs.map((i) => u32le(i.sequence)))), // sha_sequences
    sha256(concatBytes(...tx.outputs.map((o) => concatBytes(u64le(o.amount), varbytes(o.script))))), // sha_outputs
    Uint8Array.of(0x00), // spend_type: key path, no annex
    u32le(index),
  );
  return taggedHash('TapSighash', sigMsg);
}
