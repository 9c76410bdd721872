/**
 * The approver key loaded in this page, and the decisions made with it. Memory only: not
 * localStorage, not sessionStorage, never sent anywhere — the coordinator receives approvals, never
 * the key. A reload, a log-out (which reloads) or closing the tab forgets it; the user keeps the
 * encrypted key file. The private half is a non-extractable WebCrypto key (signer-key.ts): not even
 * this page's own code can read it back out.
 */
import type { LoadedSignerKey, SignerKeyFile } from './signer-key.js';

/** The key, and for a key generated in this page its sealed file until the user has saved it. */
export interface ApproverSession {
  readonly key: LoadedSignerKey;
  readonly origin: 'generated' | 'imported';
  readonly file: SignerKeyFile | null;
}

/** One approval or rejection made in this page. */
export interface Decision {
  readonly signatureId: string;
  readonly kind: 'approved' | 'rejected';
  status: string;
}

let session: ApproverSession | null = null;
const decisions: Decision[] = [];

export const currentApprover = (): ApproverSession | null => session;
export function setApprover(s: ApproverSession | null): void {
  session = s;
}
export const myDecisions = (): Decision[] => decisions;
export function recordDecision(d: Decision): void {
  decisions.unshift(d);
}
