/**
 * What the vault operator reads before a share is released, as plain lines: the request, the key,
 * what the intent does as THIS party parsed it (for a PSBT: each destination and amount, the fee),
 * the approvals present and counted, and the policy rule that admits it. Nothing here comes from
 * the coordinator's wording: the package's context is not shown.
 *
 * Before joining a key generation: the key id, suite and threshold, and each committee member
 * with the identity key THIS party pinned for it (compare them with the institution's records).
 * Before a refresh, repair or reshare: the same, for the key as THIS party holds it (or was sent
 * and checked against the start), with its generation, the new committee and threshold of a
 * reshare, a repair's target and helpers, and this party's own part.
 */
import { createHash } from 'node:crypto';
import type { SigningView } from '../signing/signing-handler.js';
import type { DkgJoinView } from './offline-dkg.js';
import type { LifecycleJoinView, PartyView } from './offline-lifecycle.js';

const btc = (sats: bigint) => {
  const whole = sats / 100_000_000n;
  const frac = (sats % 100_000_000n).toString().padStart(8, '0');
  return `${whole}.${frac} BTC (${sats} sat)`;
};

export function describeSigningView(v: SigningView, keyLabel: string | null): string[] {
  const { pkg, interpreted, record, counted } = v;
  const lines = [`request    ${pkg.requestId}`, `key        ${pkg.keyId}${keyLabel ? ` (${keyLabel})` : ''}`, `session    ${v.sessionId}`];
  if (interpreted.type === 'raw') {
    const m = interpreted.messages[0];
    lines.push(`intent     raw message, ${m.length} bytes, SHA-256 ${createHash('sha256').update(m).digest('hex')}`);
  } else {
    const f = interpreted.facts;
    lines.push(`intent     bitcoin-psbt: ${interpreted.messages.length} input(s) to sign`);
    for (const d of f.intentType === 'bitcoin-psbt' ? f.destinations : []) lines.push(`  pay      ${btc(d.amount)} to ${d.address}`);
    if (f.intentType === 'bitcoin-psbt') lines.push(`  total    ${btc(f.amount)}, fee ${btc(f.fee)}`);
  }
  lines.push(
    `approvals  ${pkg.approvals.length} present, ${counted.length} counted${counted.length ? `: ${counted.map((c) => c.approverKey.slice(0, 16)).join(', ')}` : ''}`,
    `policy     ${record.policy.source} v${record.policy.version}: ${record.decision} by rule ${record.ruleId ?? '(local limits)'}`,
  );
  return lines;
}

const fingerprint = (k: string | null) => (k ? `identity ${k.slice(0, 16)}…${k.slice(-8)}` : 'NOT PINNED');
/** One line per party, the first under `title` (at most 10 characters). */
const partyLines = (title: string, parties: readonly PartyView[]) =>
  parties.map(
    (m, i) => `${i === 0 ? title.padEnd(11) : '           '}${m.partyId}  ${fingerprint(m.identityKey)}${m.self ? '  (this party)' : ''}`,
  );

export function describeDkgJoin(v: DkgJoinView, keyLabel: string | null): string[] {
  return [
    `key generation ${v.keyId}${keyLabel ? ` (${keyLabel})` : ''}`,
    `session    ${v.sessionId}`,
    `suite      ${v.suite}`,
    `threshold  ${v.threshold} of ${v.committee.length}: any ${v.threshold} of these members can sign with the key`,
    ...partyLines('committee', v.committee),
  ];
}

const ROLES: Record<LifecycleJoinView['role'], string> = {
  member: 'member: its share is replaced by a new one of the same key',
  dealer: 'dealer: deals its share to the new committee, then its share is DESTROYED (it leaves the committee)',
  'dealer and new member': 'dealer and new member: deals its share, and receives a new one',
  'new member': 'new member: receives a share of the key',
  helper: 'helper: helps rebuild the target’s share; its own share does not change',
  target: 'target: its lost or damaged share is rebuilt; no other share changes',
};

export function describeLifecycleJoin(v: LifecycleJoinView, keyLabel: string | null): string[] {
  const title = { refresh: 'key refresh', reshare: 'key reshare', repair: 'share repair' }[v.operation];
  const generation = v.generation.from === v.generation.to ? `${v.generation.from}` : `${v.generation.from} → ${v.generation.to}`;
  const lines = [
    `${title} ${v.keyId}${keyLabel ? ` (${keyLabel})` : ''}`,
    `session    ${v.sessionId}`,
    `suite      ${v.suite}, public key ${v.publicKey} (unchanged)`,
    `generation ${generation}`,
    `role       ${ROLES[v.role]}`,
    `threshold  ${v.current.threshold} of ${v.current.committee.length}${v.next ? ' now' : ''}`,
    ...partyLines(v.next ? 'from' : 'committee', v.current.committee),
  ];
  if (v.next) {
    lines.push(
      `threshold  ${v.next.threshold} of ${v.next.committee.length} after: any ${v.next.threshold} of these members can sign with the key`,
      ...partyLines('to', v.next.committee),
    );
  }
  if (v.dealers) lines.push(`dealers    ${v.dealers.join(', ')}`);
  if (v.target) lines.push(`target     ${v.target}`, `helpers    ${(v.helpers ?? []).join(', ')}`);
  return lines;
}
