/**
 * The two independent checks of DESIGN.md invariant 1 after a crash run: what the coordinator sent
 * (its wire log: no commitment in two different signing packages) and what each party released
 * (its own shares.log: no commitment consumed twice, and the hash chain intact). The first alone
 * would not catch a party that reuses a nonce on its own — e.g. a broken RNG after a restart —
 * for a package the honest coordinator believes fresh.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, commitmentsOf, type Envelope, type MessageBody } from '@glacis/protocol';
import { readShareLog, verifyShareLog } from '../../packages/party-node/src/share-log/share-log.js';

/** What the coordinator's wire log (GLACIS_WIRE_LOG) shows. */
export interface WireLogAudit {
  /** `party:hiding:binding` of each commitment found in two different signing packages. */
  reused: string[];
  commitments: number;
  packagesSent: number;
  sharesReceived: number;
}

export function auditWireLog(path: string): WireLogAudit {
  const envelopes = readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { dir: 'in' | 'out'; party: string; envelope: Envelope });
  const packagesByCommitment = new Map<string, Set<string>>();
  let packagesSent = 0;
  let sharesReceived = 0;
  for (const { dir, envelope } of envelopes) {
    if (dir === 'in' && envelope.type === 'signature_share') sharesReceived++;
    if (dir !== 'out' || envelope.type !== 'signing_package') continue;
    packagesSent++;
    const pkg = envelope.body as MessageBody<'signing_package'>;
    // A package is identified by everything a signer signs over: intent and commitment list.
    const identity = canonicalJson({ intent: pkg.intent, commitments: pkg.commitments });
    // Every commitment of a signer's set: one per message of the intent.
    for (const set of pkg.commitments) {
      for (const c of commitmentsOf(set)) {
        const k = `${set.partyId}:${c.hiding}:${c.binding}`;
        const packages = packagesByCommitment.get(k) ?? new Set();
        packages.add(identity);
        packagesByCommitment.set(k, packages);
      }
    }
  }
  const reused = [...packagesByCommitment].filter(([, set]) => set.size > 1).map(([k]) => k);
  return { reused, commitments: packagesByCommitment.size, packagesSent, sharesReceived };
}

/** What the parties' own share logs show. */
export interface ShareLogAudit {
  /** `party: hiding:binding` of each commitment a party released a share for more than once. */
  reused: string[];
  /** Parties whose share log chain does not verify (a torn tail from a crash is repaired, not broken). */
  brokenChains: string[];
  releases: number;
}

/** Scans `<dataDir>/<party>/shares.log` of each party. */
export function auditShareLogs(dataDir: string, parties: readonly string[]): ShareLogAudit {
  const reused: string[] = [];
  const brokenChains: string[] = [];
  let releases = 0;
  for (const party of parties) {
    const dir = join(dataDir, party);
    if (!verifyShareLog(dir).ok) brokenChains.push(party);
    const seen = new Set<string>();
    for (const e of readShareLog(dir).events) {
      // One commitment per message signed; older records name only `commitment`.
      const data = e.data as { commitments?: { hiding: string; binding: string }[]; commitment?: { hiding: string; binding: string } };
      const consumed = data.commitments ?? (data.commitment ? [data.commitment] : []);
      if (consumed.length === 0) continue;
      releases++;
      for (const c of consumed) {
        const k = `${c.hiding}:${c.binding}`;
        if (seen.has(k)) reused.push(`${party}: ${k}`);
        seen.add(k);
      }
    }
  }
  return { reused, brokenChains, releases };
}
