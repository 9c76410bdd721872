/**
 * Types of scripts/bench/protocol.mjs: the JSON the protocol section of `npm run bench` returns.
 * Every table is an array of flat rows (scripts/bench/report.mjs renders each as a Markdown table).
 * Times are milliseconds of CPU (medians); every ratio is Glacis / noble of the same run.
 */

/** A size as [threshold t, committee size n]. */
export type Size = readonly [number, number];

export interface DkgRow {
  suite: string;
  /** "t-of-n". */
  size: string;
  /** One party's DKG through the Glacis participant, envelopes included. */
  oursPerPartyMs: number;
  /** One party's DKG through noble's DKG.round1/2/3. */
  noblePerPartyMs: number;
  perPartyRatio: number;
  /** Part of oursPerPartyMs spent sealing and opening signed envelopes. */
  oursEnvelopeMs: number;
  /** Encrypting n−1 round-2 shares and decrypting n−1 (measured apart; also inside oursPerPartyMs). */
  oursBoxMs: number;
  /** (oursPerPartyMs − oursEnvelopeMs − oursBoxMs) / noblePerPartyMs: the DKG computation alone. */
  coreRatio: number;
  oursTotalMs: number;
  nobleTotalMs: number;
  totalRatio: number;
  /** "measured" (all n parties run) or "extrapolated: n × per party". */
  total: string;
  /** verifyDkgCertificate on the n confirmations (coordinator and every party, after a DKG). */
  oursCertificateMs: number;
  /** Rounds behind the per-party medians. */
  runs: number;
  /** Whole DKGs run per side for the total (0 when extrapolated). */
  totalRuns: number;
}

/** Commit, sign share and aggregation rows. */
export interface OpRow {
  suite: string;
  size: string;
  oursMs: number;
  nobleMs: number;
  ratio: number;
  runs: number;
}

export interface ShareVerificationRow {
  suite: string;
  size: string;
  /** Shares checked (t). */
  shares: number;
  /** Decode once, one signing context, one random-linear-combination MSM. */
  oursBatchMs: number;
  /** Same context, every share checked exactly (what names cheaters). */
  oursExactMs: number;
  /** t × noble verifyShare (one call timed per sample: every call rebuilds the same session). */
  nobleMs: number;
  ratio: number;
  exactRatio: number;
  runs: number;
}

/** With `baseline`: the DKG per party through another build of @glacis/protocol, same run. */
export interface DkgBeforeAfterRow {
  suite: string;
  size: string;
  beforePerPartyMs: number;
  afterPerPartyMs: number;
  noblePerPartyMs: number;
  afterVsBefore: number;
  beforeVsNoble: number;
  afterVsNoble: number;
  beforeCertificateMs: number;
  afterCertificateMs: number;
  runs: number;
}

/** With `profile`: primitive call counts of one party's DKG (dkg-profile.mjs), one row per round / implementation. */
export type DkgProfileRow = Record<string, string | number>;

export interface ProtocolBenchmark {
  /** Markdown: what the figures mean. */
  note: string;
  meta: {
    node: string;
    noble: string;
    date: string;
    quick: boolean;
    cpus: number;
    loadAverage1m: number;
    suites: string[];
    sizes: string[];
    elapsedS: number;
  };
  dkg: DkgRow[];
  commit: OpRow[];
  signShare: OpRow[];
  shareVerification: ShareVerificationRow[];
  aggregation: OpRow[];
  dkgBeforeAfter?: DkgBeforeAfterRow[];
  dkgProfile?: DkgProfileRow[];
}

export interface ProtocolBenchOptions {
  /** Sizes 2-of-3 and 3-of-5, fewer rounds (tests, `npm run bench -- --quick`). */
  quick?: boolean;
  suites?: readonly string[];
  sizes?: readonly Size[];
  /** Another build of @glacis/protocol (its dist/index.js module) to compare the DKG against. */
  baseline?: unknown;
  /** Measure commit, sign share, share verification and aggregation too (default true). */
  signing?: boolean;
  /**
   * Count one party's DKG primitives (V8 precise coverage) for the first suite at the largest size
   * (default: on in full mode, off in quick mode).
   */
  profile?: boolean;
  log?: (line: string) => void;
}

export const SIZES: readonly Size[];
export const QUICK_SIZES: readonly Size[];
export function benchProtocol(options?: ProtocolBenchOptions): Promise<ProtocolBenchmark>;
