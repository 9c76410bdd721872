/**
 * bitcoin-psbt intents with real Taproot transactions built in the test (regtest-style): a 2-of-3
 * secp256k1-tr key from the DKG state machines, a funding transaction paying its Taproot output,
 * a spend with several outputs. The party's reading (sighashes, outputs, fee) is checked against
 * BIP-341's own test vector and against an independent reference (bitcoin-reference.ts), and the
 * finalized transaction's witness signatures are verified by libsecp256k1 over sighashes computed
 * from the final transaction bytes alone — what a validating node does.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { base64, bech32, bech32m } from '@scure/base';
import { OutScript, SigHash, Transaction } from '@scure/btc-signer';
import { describe, expect, it } from 'vitest';
import {
  type BitcoinPsbtIntent,
  evaluatePolicy,
  finalizeBitcoinPsbt,
  fromHex,
  type IntentKey,
  interpretIntent,
  type ProtocolErrorCode,
  parseBitcoinPsbt,
  parseIntent,
  summarizeBitcoinPsbt,
  taprootOutputScript,
  toHex,
} from '../src/index.js';
import { bip341KeyPathSighash, type Prevout, parseRawTx, txid } from './bitcoin-reference.js';
import { libsecpVerify } from './external-verifiers.js';
import { cluster, expectCode, sign } from './harness.js';
import { policy } from './policy-fixtures.js';
import { rng } from './sim.js';

const c = cluster('secp256k1-tr', 3, 2);
const pk = fromHex(c.pub.publicKey);
const ours = taprootOutputScript(pk);
const key: IntentKey = { keyId: c.pub.keyId, suite: 'secp256k1-tr', publicKey: pk, label: 'hot-wallet' };

/** Someone else's outputs: a P2WPKH (exchange) and a P2TR (vendor), with their regtest addresses. */
const exchangeHash = sha256(Uint8Array.of(1)).subarray(0, 20);
const exchange = {
  script: OutScript.encode({ type: 'wpkh', hash: exchangeHash }),
  address: bech32.encode('bcrt', [0, ...bech32.toWords(exchangeHash)]),
};
const vendorKey = fromHex('79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
const vendor = {
  script: OutScript.encode({ type: 'tr', pubkey: vendorKey }),
  address: bech32m.encode('bcrt', [1, ...bech32m.toWords(vendorKey)]),
};

type Out = { script: Uint8Array; amount: bigint };
type In = { txid: Uint8Array; index: number; witnessUtxo?: Out; sighashType?: number; finalScriptWitness?: Uint8Array[] };

/** A transaction paying `outputs`, spending a made-up coin: only its id and outputs matter. */
function fundingTx(outputs: readonly Out[]): { txid: Uint8Array; outputs: readonly Out[] } {
  const t = new Transaction({ allowUnknownOutputs: true });
  t.addInput({ txid: new Uint8Array(32).fill(0x11), index: 0 });
  for (const o of outputs) t.addOutput(o);
  return { txid: fromHex(t.id), outputs };
}

function psbtOf(inputs: readonly In[], outputs: readonly Out[]): string {
  const t = new Transaction({ allowUnknownOutputs: true });
  // Outputs first: scure refuses to add outputs once an input is final.
  for (const o of outputs) t.addOutput(o);
  for (const i of inputs) t.addInput(i);
  return base64.encode(t.toPSBT());
}

const intentOf = (psbt: string, inputs: number[]) => parseIntent({ type: 'bitcoin-psbt', psbt, inputs }) as BitcoinPsbtIntent;

const fund = fundingTx([
  { script: ours, amount: 60_000_000n },
  { script: ours, amount: 50_000_000n },
  { script: vendor.script, amount: 7_000n },
]);
const coin = (index: number): In => ({ txid: fund.txid, index, witnessUtxo: fund.outputs[index] as Out });
const spendOutputs: Out[] = [
  { script: exchange.script, amount: 30_000_000n },
  { script: vendor.script, amount: 20_000_000n },
  { script: ours, amount: 59_000_000n },
];
const spend = intentOf(psbtOf([coin(0), coin(1)], spendOutputs), [0, 1]);
const prevouts: Prevout[] = [fund.outputs[0] as Out, fund.outputs[1] as Out];

describe('BIP-341 key-path sighash', () => {
  // bitcoin/bips bip-0341/wallet-test-vectors.json, keyPathSpending[0], input 4: hashType 0 (SIGHASH_DEFAULT).
  const V = {
    rawUnsignedTx:
      '02000000097de20cbff686da83a54981d2b9bab3586f4ca7e48f57f5b55963115f3b334e9c010000000000000000d7b7cab57b1393ace2d064f4d4a2cb8af6def61273e127517d44759b6dafdd990000000000fffffffff8e1f583384333689228c5d28eac13366be082dc57441760d957275419a418420000000000fffffffff0689180aa63b30cb162a73c6d2a38b7eeda2a83ece74310fda0843ad604853b0100000000feffffffaa5202bdf6d8ccd2ee0f0202afbbb7461d9264a25e5bfd3c5a52ee1239e0ba6c0000000000feffffff956149bdc66faa968eb2be2d2faa29718acbfe3941215893a2a3446d32acd050000000000000000000e664b9773b88c09c32cb70a2a3e4da0ced63b7ba3b22f848531bbb1d5d5f4c94010000000000000000e9aa6b8e6c9de67619e6a3924ae25696bb7b694bb677a632a74ef7eadfd4eabf0000000000ffffffffa778eb6a263dc090464cd125c466b5a99667720b1c110468831d058aa1b82af10100000000ffffffff0200ca9a3b000000001976a91406afd46bcdfd22ef94ac122aa11f241244a37ecc88ac807840cb0000000020ac9a87f5594be208f8532db38cff670c450ed2fea8fcdefcc9a663f78bab962b0065cd1d',
    utxos: [
      ['512053a1f6e454df1aa2776a2814a721372d6258050de330b3c6d10ee8f4e0dda343', 420000000n],
      ['5120147c9c57132f6e7ecddba9800bb0c4449251c92a1e60371ee77557b6620f3ea3', 462000000n],
      ['76a914751e76e8199196d454941c45d1b3a323f1433bd688ac', 294000000n],
      ['5120e4d810fd50586274face62b8a807eb9719cef49c04177cc6b76a9a4251d5450e', 504000000n],
      ['512091b64d5324723a985170e4dc5a0f84c041804f2cd12660fa5dec09fc21783605', 630000000n],
      ['00147dd65592d0ab2fe0d0257d571abf032cd9db93dc', 378000000n],
      ['512075169f4001aa68f15bbed28b218df1d0a62cbbcf1188c6665110c293c907b831', 672000000n],
      ['5120712447206d7a5238acc7ff53fbe94a3b64539ad291c7cdbc490b7577e4b17df5', 546000000n],
      ['512077e30a5522dd9f894c3f8b8bd4c4b2cf82ca7da8a3ea6a239655c39c050ab220', 588000000n],
    ] as const,
    index: 4,
    outputKey: '91b64d5324723a985170e4dc5a0f84c041804f2cd12660fa5dec09fc21783605',
    sigHash: '4f900a0bae3f1446fd48490c2958b5a023228f01661cda3496a11da502a7f7ef',
    witness:
      'b4010dd48a617db09926f729e79c33ae0b4e94b79f04a1ae93ede6315eb3669de185a17d2b0ac9ee09fd4c64b678a0b61a0a86fa888a273c8511be83bfd6810f',
  };
  const utxos: Prevout[] = V.utxos.map(([s, amount]) => ({ script: fromHex(s), amount }));

  it('the independent reference reproduces the BIP-341 vector, and the vector signature verifies over it', () => {
    const sighash = bip341KeyPathSighash(parseRawTx(V.rawUnsignedTx), V.index, utxos);
    expect(toHex(sighash)).toBe(V.sigHash);
    expect(libsecpVerify(fromHex(V.witness), sighash, fromHex(V.outputKey))).toBe(true);
  });

  /** The vector's unsigned transaction, its inputs' prevouts stated as witness UTXOs; `replaceOutput1` swaps its odd second output. */
  function vectorPsbt(replaceOutput1?: Out): string {
    const raw = parseRawTx(V.rawUnsignedTx);
    const t = new Transaction({ allowUnknownOutputs: true, version: raw.version, lockTime: raw.lockTime });
    raw.inputs.forEach((i, n) => {
      t.addInput({ txid: i.txid.slice().reverse(), index: i.vout, sequence: i.sequence, witnessUtxo: utxos[n] as Prevout });
    });
    raw.outputs.forEach((o, n) => {
      t.addOutput(n === 1 && replaceOutput1 ? replaceOutput1 : o);
    });
    return base64.encode(t.toPSBT());
  }

  it("(why the next test swaps an output) scure cannot carry the vector's second output: its script does not decode", () => {
    expect(() => vectorPsbt()).toThrow(/opcode/);
  });

  it('with that output made standard, a party computes what the reference computes for every Taproot input', () => {
    const output1: Out = { script: taprootOutputScript(vendorKey), amount: 3_410_000_000n };
    const psbt = vectorPsbt(output1);
    const raw = parseRawTx(V.rawUnsignedTx);
    raw.outputs[1] = output1;
    const taprootInputs = utxos.flatMap((u, i) => (u.script.length === 34 && u.script[0] === 0x51 ? [i] : []));
    expect(taprootInputs).toEqual([0, 1, 3, 4, 6, 7, 8]);
    for (const i of taprootInputs) {
      const parsed = parseBitcoinPsbt(intentOf(psbt, [i]), (utxos[i] as Prevout).script.subarray(2), 'bitcoin');
      expect(toHex(parsed.inputs[0]?.sighash ?? new Uint8Array())).toBe(toHex(bip341KeyPathSighash(raw, i, utxos)));
    }
  });
});

describe('a 2-of-3 FROST key spends its Taproot outputs', () => {
  const read = interpretIntent(spend, key, { bitcoinNetwork: 'regtest' });

  it('the party reads destinations, amount and fee from the PSBT itself; change is not a destination', () => {
    expect(read.type).toBe('bitcoin-psbt');
    expect(read.facts).toEqual({
      keyId: key.keyId,
      keyLabel: 'hot-wallet',
      intentType: 'bitcoin-psbt',
      destinations: [
        { address: exchange.address, amount: 30_000_000n },
        { address: vendor.address, amount: 20_000_000n },
      ],
      amount: 50_000_000n,
      fee: 1_000_000n,
    });
    if (read.type !== 'bitcoin-psbt') return;
    expect(read.psbt.outputs.map((o) => o.change)).toEqual([false, false, true]);
    expect([read.psbt.totalIn, read.psbt.totalOut]).toEqual([110_000_000n, 109_000_000n]);
    // The JSON summary approvers and logs see round-trips through JSON unchanged.
    const summary = summarizeBitcoinPsbt(read.psbt);
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
    expect(summary).toMatchObject({
      network: 'regtest',
      fee: '1000000',
      totalIn: '110000000',
      outputs: [{ address: exchange.address, amount: '30000000', change: false }, {}, { change: true }],
    });
  });

  it('the same PSBT on mainnet renders mainnet addresses (the network is the party’s, not the request’s)', () => {
    const main = interpretIntent(spend, key, { bitcoinNetwork: 'bitcoin' });
    const addresses = main.type === 'bitcoin-psbt' ? main.psbt.outputs.map((o) => o.address) : [];
    expect(addresses.map((a) => a?.slice(0, 4))).toEqual(['bc1q', 'bc1p', 'bc1p']);
  });

  it('a destination allowlist decides on what the party parsed', () => {
    const p = policy({
      rules: [{ id: 'known', match: { destinations: { allowlist: [exchange.address, vendor.address] } }, decision: 'allow' }],
    });
    expect(evaluatePolicy(p, read.facts, 0, [])).toMatchObject({ decision: 'allow', counted: { amount: '51000000', count: 1 } });
    const onlyExchange = policy({
      rules: [{ id: 'exchange', match: { destinations: { allowlist: [exchange.address] } }, decision: 'allow' }],
    });
    expect(evaluatePolicy(onlyExchange, read.facts, 0, [])).toMatchObject({ decision: 'deny', code: 'policy_no_matching_rule' });
  });

  it('signed by 2 of 3, finalized: libsecp256k1 accepts every witness over sighashes from the final bytes alone', () => {
    const signatures = read.messages.map((m) => sign(c, ['p01', 'p03'], m));
    const done = finalizeBitcoinPsbt(spend, pk, 'regtest', signatures);
    expect(done.transactionHex).not.toBeNull();
    const tx = parseRawTx(done.transactionHex as string);
    expect(txid(tx)).toBe(done.txid);
    expect(done.txid).toBe(read.type === 'bitcoin-psbt' ? read.psbt.txid : '');
    expect(tx.outputs.map((o) => [toHex(o.script), o.amount])).toEqual(spendOutputs.map((o) => [toHex(o.script), o.amount]));
    expect(tx.inputs.map((i) => [toHex(i.txid.slice().reverse()), i.vout])).toEqual([
      [toHex(fund.txid), 0],
      [toHex(fund.txid), 1],
    ]);
    for (const [i, input] of tx.inputs.entries()) {
      expect(input.scriptSig.length).toBe(0);
      expect(input.witness.length).toBe(1);
      const sighash = bip341KeyPathSighash(tx, i, prevouts);
      expect(toHex(sighash)).toBe(toHex(read.messages[i] as Uint8Array));
      expect(libsecpVerify(input.witness[0] as Uint8Array, sighash, pk)).toBe(true);
    }
    // The PSBT handed back carries the same final witnesses.
    const back = Transaction.fromPSBT(base64.decode(done.psbt));
    expect(back.isFinal).toBe(true);
    expect(toHex(back.extract())).toBe(done.transactionHex);
  });

  it('a PSBT with inputs of another owner comes back signed for ours, without a transaction yet', () => {
    const foreign: In = { txid: fund.txid, index: 2, witnessUtxo: fund.outputs[2] as Out };
    const shared = intentOf(psbtOf([coin(0), foreign], [{ script: exchange.script, amount: 60_000_000n }]), [0]);
    const r = interpretIntent(shared, key, { bitcoinNetwork: 'regtest' });
    const done = finalizeBitcoinPsbt(shared, pk, 'regtest', [sign(c, ['p02', 'p03'], r.messages[0] as Uint8Array)]);
    expect(done.transactionHex).toBeNull();
    const back = Transaction.fromPSBT(base64.decode(done.psbt), { allowUnknownOutputs: true });
    expect(back.getInput(0).finalScriptWitness?.length).toBe(1);
    expect(back.getInput(1).finalScriptWitness).toBeUndefined();
  });

  it('an OP_RETURN output is a destination with no address', () => {
    const data = { script: Uint8Array.of(0x6a, 0x03, 1, 2, 3), amount: 0n };
    const r = interpretIntent(intentOf(psbtOf([coin(0)], [data, { script: ours, amount: 59_990_000n }]), [0]), key, {
      bitcoinNetwork: 'regtest',
    });
    expect(r.facts).toMatchObject({ destinations: [{ address: null, amount: 0n }], amount: 0n, fee: 10_000n });
  });
});

describe('hostile PSBTs: each defect has its code', () => {
  const otherKey = fromHex('c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5');
  const cases: [string, () => BitcoinPsbtIntent, ProtocolErrorCode][] = [
    ['valid base64 that is not a PSBT', () => intentOf(base64.encode(new TextEncoder().encode('hello, world')), [0]), 'psbt_invalid'],
    ['a transaction with no outputs', () => intentOf(psbtOf([coin(0)], []), [0]), 'psbt_invalid'],
    [
      'a listed input the transaction does not have',
      () => intentOf(psbtOf([coin(0)], spendOutputs.slice(0, 1)), [0, 1]),
      'psbt_input_out_of_range',
    ],
    [
      'a listed input without its witness UTXO (amount hidden)',
      () => intentOf(psbtOf([{ txid: fund.txid, index: 0 }], spendOutputs.slice(0, 1)), [0]),
      'psbt_missing_witness_utxo',
    ],
    [
      'another input with no previous output (its amount is committed to, so it must be known)',
      () => intentOf(psbtOf([coin(0), { txid: fund.txid, index: 2 }], spendOutputs.slice(0, 1)), [0]),
      'psbt_missing_witness_utxo',
    ],
    [
      "a listed input spending someone else's Taproot output",
      () =>
        intentOf(psbtOf([coin(0), { txid: fund.txid, index: 2, witnessUtxo: fund.outputs[2] as Out }], spendOutputs.slice(0, 1)), [0, 1]),
      'psbt_input_not_ours',
    ],
    [
      'a witness UTXO claiming another Taproot key with our amount',
      () =>
        intentOf(
          psbtOf([{ ...coin(0), witnessUtxo: { script: taprootOutputScript(otherKey), amount: 60_000_000n } }], spendOutputs.slice(0, 1)),
          [0],
        ),
      'psbt_input_not_ours',
    ],
    [
      'SIGHASH_ALL asked for (a 65-byte signature and another digest)',
      () => intentOf(psbtOf([{ ...coin(0), sighashType: SigHash.ALL }], spendOutputs.slice(0, 1)), [0]),
      'psbt_unsupported_sighash',
    ],
    [
      'SIGHASH_NONE|ANYONECANPAY (outputs left open to rewriting)',
      () => intentOf(psbtOf([{ ...coin(0), sighashType: SigHash.NONE_ANYONECANPAY }], spendOutputs.slice(0, 1)), [0]),
      'psbt_unsupported_sighash',
    ],
    [
      'an input finalized already',
      () => intentOf(psbtOf([{ ...coin(0), finalScriptWitness: [new Uint8Array(64)] }], spendOutputs.slice(0, 1)), [0]),
      'psbt_input_finalized',
    ],
    [
      'outputs exceeding inputs',
      () => intentOf(psbtOf([coin(1)], [{ script: exchange.script, amount: 50_000_001n }]), [0]),
      'psbt_amounts_invalid',
    ],
    [
      'an input amount beyond 21 million BTC',
      () =>
        intentOf(psbtOf([{ ...coin(0), witnessUtxo: { script: ours, amount: 2_100_000_000_000_001n } }], spendOutputs.slice(0, 1)), [0]),
      'psbt_amounts_invalid',
    ],
  ];
  for (const [name, make, code] of cases) {
    it(`${code}: ${name}`, () => {
      const intent = make();
      const before = structuredClone(intent);
      expectCode(() => interpretIntent(intent, key, { bitcoinNetwork: 'regtest' }), code);
      expect(intent).toEqual(before);
    });
  }

  it('an explicit SIGHASH_DEFAULT (0) is fine', () => {
    const r = interpretIntent(intentOf(psbtOf([{ ...coin(0), sighashType: SigHash.DEFAULT }], spendOutputs.slice(0, 1)), [0]), key, {
      bitcoinNetwork: 'regtest',
    });
    expect(r.messages).toHaveLength(1);
  });

  it('intent_wrong_suite: a PSBT for an ed25519 key', () => {
    expectCode(() => interpretIntent(spend, { ...key, suite: 'ed25519' }, { bitcoinNetwork: 'regtest' }), 'intent_wrong_suite');
  });

  it('a coordinator understating an input amount (to hide a fee) only gets signatures the chain rejects', () => {
    const lie = intentOf(
      psbtOf([coin(0), { ...coin(1), witnessUtxo: { script: ours, amount: 49_000_000n } }], spendOutputs.slice(0, 2)),
      [0, 1],
    );
    const lied = interpretIntent(lie, key, { bitcoinNetwork: 'regtest' });
    const sig = sign(c, ['p01', 'p02'], lied.messages[0] as Uint8Array);
    const txForLie = Transaction.fromPSBT(base64.decode(lie.psbt), { allowUnknownOutputs: true });
    const truth = bip341KeyPathSighash(parseRawTx(toHex(txForLie.unsignedTx)), 0, prevouts);
    expect(libsecpVerify(sig, truth, pk)).toBe(false);
  });

  it('psbt_signature_invalid: signatures swapped between inputs, one missing, or not 64 bytes', () => {
    const read = interpretIntent(spend, key, { bitcoinNetwork: 'regtest' });
    const [s0, s1] = read.messages.map((m) => sign(c, ['p01', 'p02'], m)) as [Uint8Array, Uint8Array];
    expectCode(() => finalizeBitcoinPsbt(spend, pk, 'regtest', [s1, s0]), 'psbt_signature_invalid');
    expectCode(() => finalizeBitcoinPsbt(spend, pk, 'regtest', [s0]), 'psbt_signature_invalid');
    expectCode(() => finalizeBitcoinPsbt(spend, pk, 'regtest', [s0, Uint8Array.of(...s1, 0)]), 'psbt_signature_invalid');
    expectCode(() => finalizeBitcoinPsbt(spend, pk, 'regtest', [s0, rng(64)]), 'psbt_signature_invalid');
  });
});
