/**
 * The API objects the console reads (docs/api.md "Objects"), each with its decoder. Statuses are
 * kept as strings: a status the console does not know yet is shown as it is rather than refused.
 */
import { array, bool, type Decoder, int, nullable, num, object, raw, record, str, struct } from './decode.js';

export interface ErrorInfo {
  code: string;
  message: string;
}
const errorInfo = nullable(struct<ErrorInfo>({ code: str, message: str }));

/** One member's signed `dkg_confirm`, flattened, plus `partyId` and the coordinator's `identityKey`. */
export interface Confirmation {
  partyId: string;
  identityKey: string | null;
  v: number;
  type: string;
  sessionId: string;
  from: string;
  to: string;
  seq: number;
  body: unknown;
  signature: string;
}
const confirmation = struct<Confirmation>({
  partyId: str,
  identityKey: nullable(str),
  v: int,
  type: str,
  sessionId: str,
  from: str,
  to: str,
  seq: int,
  body: raw,
  signature: str,
});

/** A lifecycle operation that changed the key since its DKG, with its signed confirmations. */
export interface LineageLink {
  operation: string;
  sessionId: string;
  confirmations: Confirmation[];
}
const lineageLink = struct<LineageLink>({ operation: str, sessionId: str, confirmations: array(confirmation) });

/** A key's certificate: the DKG's confirmations, then the lineage of lifecycle operations since. */
export interface KeyCertificate {
  confirmations: Confirmation[];
  lineage?: LineageLink[] | undefined;
}

export interface Key {
  keyId: string;
  label: string | null;
  suite: string;
  threshold: number;
  parties: string[];
  status: string;
  publicKey: string | null;
  verifyingShares: Record<string, string> | null;
  error: ErrorInfo | null;
  createdAt: string;
  certificate: KeyCertificate | null;
}
export const keyDecoder: Decoder<Key> = struct<Key>({
  keyId: str,
  label: nullable(str),
  suite: str,
  threshold: int,
  parties: array(str),
  status: str,
  publicKey: nullable(str),
  verifyingShares: nullable(record(str)),
  error: errorInfo,
  createdAt: str,
  certificate: nullable(
    struct<{ confirmations: Confirmation[] }, { lineage: LineageLink[] }>(
      { confirmations: array(confirmation) },
      { lineage: array(lineageLink) },
    ),
  ),
});

export interface Exclusion {
  partyId: string;
  reason: string;
}
/** What a request signs: its `type` (`raw`, `bitcoin-psbt`, …) and the rest of it, shown as it is. */
export interface Intent {
  type: string;
  [field: string]: unknown;
}
const intent: Decoder<Intent> = (v, at) => ({ ...object(v, at), type: str((v as { type?: unknown }).type, `${at}.type`) });

/** An approval as it travels (API.md `Approval`). */
export interface Approval {
  approverKey: string;
  signature: string;
  policyVersion: number;
  nonce: string;
  expiresAt: string;
}
const approval = struct<Approval>({ approverKey: str, signature: str, policyVersion: int, nonce: str, expiresAt: str });

/** awaiting_approval only: what the coordinator reads the distributed policy to require (UX; each party decides itself). */
export interface ApprovalStatus {
  policyVersion: number;
  ruleId: string;
  groups: { group: string; min: number; have: number }[];
}

export interface Signature {
  signatureId: string;
  keyId: string;
  intent: Intent;
  /** A raw intent's bytes (hex); null for a typed intent. */
  message: string | null;
  context: Record<string, unknown> | null;
  status: string;
  signature: string | null;
  signers: string[] | null;
  excluded: Exclusion[];
  error: ErrorInfo | null;
  createdAt: string;
  completedAt: string | null;
  /** Coordinators with the approvals workflow add these. */
  approvals?: Approval[];
  approvalStatus?: ApprovalStatus | null;
}
type SignatureBase = Omit<Signature, 'approvals' | 'approvalStatus'>;
export const signatureDecoder: Decoder<Signature> = struct<SignatureBase, Pick<Signature, 'approvals' | 'approvalStatus'>>(
  {
    signatureId: str,
    keyId: str,
    intent,
    message: nullable(str),
    context: nullable(object),
    status: str,
    signature: nullable(str),
    signers: nullable(array(str)),
    excluded: array(struct<Exclusion>({ partyId: str, reason: str })),
    error: errorInfo,
    createdAt: str,
    completedAt: nullable(str),
  },
  {
    approvals: array(approval),
    approvalStatus: nullable(
      struct<ApprovalStatus>({
        policyVersion: int,
        ruleId: str,
        groups: array(struct<{ group: string; min: number; have: number }>({ group: str, min: int, have: int })),
      }),
    ),
  },
);

/** GET /v1/policy, the part the console reads: the distributed version. */
export const policyVersionDecoder: Decoder<{ version: number | null }> = struct<{ version: number | null }>({ version: nullable(int) });

export interface Operation {
  operationId: string;
  keyId: string;
  type: string;
  status: string;
  error: ErrorInfo | null;
  createdAt: string;
  completedAt: string | null;
}
export const operationDecoder: Decoder<Operation> = struct<Operation>({
  operationId: str,
  keyId: str,
  type: str,
  status: str,
  error: errorInfo,
  createdAt: str,
  completedAt: nullable(str),
});

/** A party as `GET /v1/parties` lists it; the optional fields arrive with later coordinators. */
export interface Party {
  partyId: string;
  identityKey: string;
  connected: boolean;
  lastSeenAt: string | null;
  ready?: number;
  excludedCount?: number;
  latencyMs?: number | null;
  mode?: string;
  policyVersion?: number | null;
  needsRepair?: string[];
}
export const partiesDecoder: Decoder<{ parties: Party[] }> = struct<{ parties: Party[] }>({
  parties: array(
    struct<
      Pick<Party, 'partyId' | 'identityKey' | 'connected' | 'lastSeenAt'>,
      Omit<Party, 'partyId' | 'identityKey' | 'connected' | 'lastSeenAt'>
    >(
      { partyId: str, identityKey: str, connected: bool, lastSeenAt: nullable(str) },
      { ready: int, excludedCount: int, latencyMs: nullable(num), mode: str, policyVersion: nullable(int), needsRepair: array(str) },
    ),
  ),
});

/** `GET /v1/parties/{id}/outbox` (`format=json`): what waits for an offline party, sealed when asked. */
export interface Outbox {
  partyId: string;
  /** The bundle (hex), or null when nothing waits. */
  bundle: string | null;
  sequence: number | null;
  signatureIds: string[];
  /** The keys whose DKG messages it carries. */
  keyIds: string[];
  /** The lifecycle operations whose messages it carries (absent from an older coordinator). */
  operationIds?: string[];
  items: number;
}
export const outboxDecoder: Decoder<Outbox> = struct<Omit<Outbox, 'operationIds'>, Pick<Outbox, 'operationIds'>>(
  {
    partyId: str,
    bundle: nullable(str),
    sequence: nullable(int),
    signatureIds: array(str),
    keyIds: array(str),
    items: int,
  },
  { operationIds: array(str) },
);

/** `POST /v1/parties/{id}/inbox`: the bundle accepted, and what it carried. */
export interface InboxReceipt {
  partyId: string;
  sequence: number;
  commitments: number;
  answers: number;
}
export const inboxReceiptDecoder: Decoder<InboxReceipt> = struct<InboxReceipt>({
  partyId: str,
  sequence: int,
  commitments: int,
  answers: int,
});

export interface LatencyBucket {
  start: string;
  count: number;
  meanMs: number;
  maxMs: number;
}
export interface LatencySummary {
  windowSeconds: number;
  bucketSeconds: number;
  parties: { partyId: string; buckets: LatencyBucket[] }[];
}
export const latencyDecoder: Decoder<LatencySummary> = struct<LatencySummary>({
  windowSeconds: int,
  bucketSeconds: int,
  parties: array(
    struct<{ partyId: string; buckets: LatencyBucket[] }>({
      partyId: str,
      buckets: array(struct<LatencyBucket>({ start: str, count: int, meanMs: num, maxMs: num })),
    }),
  ),
});

export interface AuditEvent {
  seq: number;
  at: string;
  type: string;
  data: unknown;
  prevHash: string;
  hash: string;
}
export const auditEventDecoder: Decoder<AuditEvent> = struct<AuditEvent>({
  seq: int,
  at: str,
  type: str,
  data: raw,
  prevHash: str,
  hash: str,
});

/** One page of a list: its items under `field`, and the cursor of the next. */
export function pageDecoder<T>(field: string, item: Decoder<T>): Decoder<{ items: T[]; nextCursor: string | null }> {
  return (v, at) => {
    const page = object(v, at);
    return { items: array(item)(page[field], `${at}.${field}`), nextCursor: nullable(str)(page.nextCursor, `${at}.nextCursor`) };
  };
}
