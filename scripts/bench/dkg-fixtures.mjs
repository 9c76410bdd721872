/**
 * DKG drivers for the protocol benchmark and the DKG profile: one party's DKG work, or a whole
 * DKG, through noble's `DKG.round1/2/3` directly and through Glacis's participant state machine
 * (every message sealed into a signed envelope and opened again, as packages/protocol/test/sim.ts
 * runDkg does). Imports @glacis/protocol (its built dist): run `npx tsc -b` first.
 *
 * "One party's work" is what a participant computes from its own round 1 to its key share, given
 * every other party's messages: those are generated outside the timed region, once per fixture,
 * so a 20-of-30 party can be measured without running the other 29 parties' rounds 2 and 3.
 */
import { randomBytes } from 'node:crypto';
import * as current from '@glacis/protocol';

const { BROADCAST, COORDINATOR, ReplayGuard, createEnvelopeSealer, generateIdentity, getSuite, openBox, openEnvelope, sealBox, toHex } =
  current;

export const rng = (n = 32) => new Uint8Array(randomBytes(n));

/** p01…pNN (party ids sort like their indices). */
export function committeeNames(n) {
  const width = Math.max(2, String(n).length);
  return Array.from({ length: n }, (_, i) => `p${String(i + 1).padStart(width, '0')}`);
}

/** f(x) for noble's secret polynomial (RFC 9591 App. C.1), Horner's rule over noble's Fn. */
export function shareFor(suite, secret, identifierHex) {
  const { Fn } = suite;
  const x = Fn.fromBytes(Uint8Array.from(Buffer.from(identifierHex, 'hex')));
  let acc = Fn.ZERO;
  for (let i = secret.coefficients.length - 1; i >= 0; i--) acc = Fn.add(Fn.mul(acc, x), secret.coefficients[i]);
  return Fn.toBytes(acc);
}

const ms = (t0) => performance.now() - t0;

/**
 * Round-1 packages of every party but `measured` (noble, once), and the round-2 share each of them
 * deals to `measured`. The measured party's own round 1 runs inside the timed region.
 */
export function oneParty(suiteId, t, n) {
  const suite = getSuite(suiteId);
  const names = committeeNames(n);
  const measured = names[0];
  const ids = new Map(names.map((p) => [p, suite.identifierFor(p)]));
  const others = names.slice(1).map((p) => {
    const r1 = suite.frost.DKG.round1(ids.get(p), { min: t, max: n }, undefined, rng);
    return { name: p, r1, shareToMeasured: shareFor(suite, r1.secret, ids.get(measured)) };
  });
  return { suite, t, n, names, ids, measured, others };
}

/** One party's DKG straight through noble: round1 + round2 + round3 (ms each). */
export function nobleOnePartyRun(f) {
  const { suite, t, n, ids, measured, others } = f;
  const { DKG } = suite.frost;
  const othersPublic = others.map((o) => o.r1.public);
  const received = others.map((o) => ({ identifier: ids.get(o.name), signingShare: o.shareToMeasured }));
  let t0 = performance.now();
  const me = DKG.round1(ids.get(measured), { min: t, max: n }, undefined, rng);
  const round1Ms = ms(t0);
  t0 = performance.now();
  DKG.round2(me.secret, othersPublic);
  const round2Ms = ms(t0);
  t0 = performance.now();
  const key = DKG.round3(me.secret, othersPublic, received);
  const round3Ms = ms(t0);
  return { totalMs: round1Ms + round2Ms + round3Ms, round1Ms, round2Ms, round3Ms, publicKey: key.public.commitments[0] };
}

/** Identity keys, sealers and replay guards for `names` (fresh sealers/guards per run). */
function world(names, identities) {
  const parties = new Map(
    names.map((p) => [p, { identity: identities.get(p), sealer: createEnvelopeSealer(p, identities.get(p), 1), guard: new ReplayGuard() }]),
  );
  const keyOf = (p) => parties.get(p)?.identity.publicKey;
  const open = (self, env) => openEnvelope(JSON.parse(JSON.stringify(env)), { self, keyOf, replay: parties.get(self).guard });
  return { parties, keyOf, open };
}

const identityCache = new Map();
function identitiesFor(names) {
  for (const p of names) if (!identityCache.has(p)) identityCache.set(p, generateIdentity(rng));
  return identityCache;
}

/**
 * One party's DKG through Glacis's participant (`impl` is a build of @glacis/protocol exporting
 * createDkgParticipant; wire formats are shared): start, open + receive every round-1 envelope,
 * seal its round-2 envelopes, open + receive every round-2 envelope addressed to it. Returns ms
 * split into state-machine work (`machineMs`) and envelope sealing/opening (`envelopeMs`).
 * `probe.begin()` / `probe.end()` bracket every timed region (the profile counts only those).
 */
export function glacisOnePartyRun(f, impl = current, probe = { begin() {}, end() {} }) {
  const { suite, t, names, measured, others } = f;
  const w = world(names, identitiesFor(names));
  const keyId = `bench-${Math.random().toString(36).slice(2, 10)}`;
  const sessionId = `dkg-${keyId}`;
  // Others' round-1 broadcasts, sealed (untimed): what the relay would deliver.
  const paramsHash = impl.dkgParamsHash({ keyId, sessionId, suite: suite.id, threshold: t, committee: names });
  const round1 = others.map((o) =>
    w.parties.get(o.name).sealer.seal({
      type: 'dkg_round1',
      sessionId,
      to: BROADCAST,
      body: { paramsHash, commitment: o.r1.public.commitment.map(toHex), proofOfKnowledge: toHex(o.r1.public.proofOfKnowledge) },
    }),
  );
  let machineMs = 0;
  let envelopeMs = 0;
  let confirm;
  const step = (g) => {
    probe.begin();
    const t0 = performance.now();
    const out = g();
    machineMs += ms(t0);
    if (out.error) throw out.error;
    const t1 = performance.now();
    for (const o of out.outgoing) w.parties.get(measured).sealer.seal(o);
    envelopeMs += ms(t1);
    probe.end();
    confirm = out.outgoing.find((o) => o.type === 'dkg_confirm') ?? confirm;
    return out;
  };
  const open = (env) => {
    probe.begin();
    const t0 = performance.now();
    const msg = w.open(measured, env);
    envelopeMs += ms(t0);
    probe.end();
    return msg;
  };
  const me = impl.createDkgParticipant({
    suite: impl.getSuite(suite.id),
    keyId,
    sessionId,
    self: measured,
    committee: names,
    threshold: t,
    identity: w.parties.get(measured).identity,
    peerKey: w.keyOf,
    rng,
  });
  step(() => me.start());
  for (const env of round1) step(() => me.receive(open(env)));
  if (me.phase !== 'round2' || me.transcriptHash === undefined) throw new Error(`measured party did not reach round 2 (${me.phase})`);
  // Others' round-2 envelopes to the measured party (untimed), bound to the transcript it hashed.
  const round2 = others.map((o) => {
    const box = sealBox(
      o.shareToMeasured,
      w.keyOf(measured),
      { suite: suite.id, sessionId, round: 'dkg_round2', from: o.name, to: measured },
      rng,
    );
    return w.parties.get(o.name).sealer.seal({
      type: 'dkg_round2',
      sessionId,
      to: measured,
      body: { transcriptHash: me.transcriptHash, box: { epk: toHex(box.epk), nonce: toHex(box.nonce), ciphertext: toHex(box.ciphertext) } },
    });
  });
  let share;
  for (const env of round2) share = step(() => me.receive(open(env))).share ?? share;
  if (!share) throw new Error('measured party produced no key share');
  return { totalMs: machineMs + envelopeMs, machineMs, envelopeMs, publicKey: share.public.publicKey, keyId, confirm };
}

/**
 * The DKG certificate of a one-party run (every member's signed `dkg_confirm`: all carry the same
 * body, so the measured party's body is sealed once per member) and the time `impl`'s
 * verifyDkgCertificate takes to check it — what the coordinator and every party do after a DKG.
 */
export function certificateRun(f, run, impl = current) {
  const w = world(f.names, identitiesFor(f.names));
  const envelopes = f.names.map((p) => w.parties.get(p).sealer.seal(run.confirm));
  const exp = { keyId: run.keyId, suite: f.suite.id, threshold: f.t, committee: f.names, keyOf: w.keyOf };
  const t0 = performance.now();
  const pub = impl.verifyDkgCertificate(envelopes, exp);
  const totalMs = ms(t0);
  if (pub.publicKey !== run.publicKey) throw new Error('certificate yields another key');
  return { totalMs };
}

/** A whole DKG through noble: every party's round1, round2 and round3 in this process. */
export function nobleFullRun(suiteId, t, n) {
  const suite = getSuite(suiteId);
  const { DKG } = suite.frost;
  const ids = committeeNames(n).map((p) => suite.identifierFor(p));
  const t0 = performance.now();
  const r1 = ids.map((id) => DKG.round1(id, { min: t, max: n }, undefined, rng));
  const publics = r1.map((r) => r.public);
  const r2 = r1.map((r, i) =>
    DKG.round2(
      r.secret,
      publics.filter((_, j) => j !== i),
    ),
  );
  const keys = r1.map((r, i) =>
    DKG.round3(
      r.secret,
      publics.filter((_, j) => j !== i),
      ids.filter((_, j) => j !== i).map((from) => r2[ids.indexOf(from)][ids[i]]),
    ),
  );
  const totalMs = ms(t0);
  const pk = toHex(keys[0].public.commitments[0]);
  if (keys.some((k) => toHex(k.public.commitments[0]) !== pk)) throw new Error('noble DKG: parties disagree');
  return { totalMs };
}

/** A whole DKG through Glacis's participants, every message sealed and opened (sim.ts runDkg). */
export function glacisFullRun(suiteId, t, n, impl = current) {
  const names = committeeNames(n);
  const w = world(names, identitiesFor(names));
  const keyId = `bench-${Math.random().toString(36).slice(2, 10)}`;
  const sessionId = `dkg-${keyId}`;
  const suite = impl.getSuite(suiteId);
  const t0 = performance.now();
  const machines = new Map(
    names.map((self) => [
      self,
      impl.createDkgParticipant({
        suite,
        keyId,
        sessionId,
        self,
        committee: names,
        threshold: t,
        identity: w.parties.get(self).identity,
        peerKey: w.keyOf,
        rng,
      }),
    ]),
  );
  const shares = new Map();
  const queue = [];
  const post = (from, step) => {
    if (step.error) throw step.error;
    if (step.share) shares.set(from, step.share);
    for (const out of step.outgoing) {
      const env = w.parties.get(from).sealer.seal(out);
      if (out.to === COORDINATOR) continue;
      for (const to of out.to === BROADCAST ? names.filter((m) => m !== from) : [out.to]) queue.push({ env, to });
    }
  };
  for (const [name, m] of machines) post(name, m.start());
  while (queue.length > 0) {
    const { env, to } = queue.shift();
    post(to, machines.get(to).receive(w.open(to, env)));
  }
  const totalMs = ms(t0);
  if (shares.size !== n) throw new Error(`Glacis DKG: ${shares.size} of ${n} shares`);
  const pk = shares.get(names[0]).public.publicKey;
  for (const s of shares.values()) if (s.public.publicKey !== pk) throw new Error('Glacis DKG: parties disagree');
  return { totalMs };
}

/**
 * What one party of `f` spends encrypting its n−1 round-2 shares and decrypting the n−1 it receives
 * (X25519 + HKDF + XChaCha20-Poly1305, crypto/box.ts): part of the Glacis per-party figure that
 * noble's DKG, which leaves transport to the caller, does not do. Independent of the suite.
 */
export function boxRun(f) {
  const ids = identitiesFor(f.names);
  const me = ids.get(f.measured);
  const share = new Uint8Array(f.suite.scalarLength).fill(7);
  let totalMs = 0;
  for (const o of f.others) {
    const inbound = { suite: f.suite.id, sessionId: 's', round: 'dkg_round2', from: o.name, to: f.measured };
    const received = sealBox(share, me.publicKey, inbound, rng); // the peer's work: untimed
    const t0 = performance.now();
    sealBox(share, ids.get(o.name).publicKey, { ...inbound, from: f.measured, to: o.name }, rng);
    openBox(received, me, inbound);
    totalMs += ms(t0);
  }
  return { totalMs };
}
