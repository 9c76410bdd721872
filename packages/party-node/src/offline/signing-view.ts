/**
 * What the vault operator reads before a share is released, as plain lines: the request, the key,
 * what the intent does as THIS party parsed it (for a PSBT: each destination and amount, the fee),
 * the approvals present and counted, and the policy rule that admits it. Nothing here comes from
 * the coordinator's wording: the package's context is not shown.
 *
 * Before joining a key generation: the key id, suite and threshold, and each committee member
 * with the identity key THIS party pinned for it (compare them with the institution's records).
 */
import { createHash } from 'node:crypto';
import type { SigningView } from '../signing/signing-handler.js';
import type { DkgJoinView } from './offline-dkg.js';

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

export function describeDkgJoin(v: DkgJoinView, keyLabel: string | null): string[] {
  const fingerprint = (k: string | null) => (k ? `identity ${k.slice(0, 16)}…${k.slice(-8)}` : 'NOT PINNED');
  return [
    `key generation ${v.keyId}${keyLabel ? ` (${keyLabel})` : ''}`,
    `session    ${v.sessionId}`,
    `suite      ${v.suite}`,
    `threshold  ${v.threshold} of ${v.committee.length}: any ${v.threshold} of these members can sign with the key`,
    ...v.committee.map(
      (m, i) => `${i === 0 ? 'committee  ' : '           '}${m.partyId}  ${fingerprint(m.identityKey)}${m.self ? '  (this party)' : ''}`,
    ),
  ];
}
