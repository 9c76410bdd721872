/** Adding an approval to a stored request (Store.addApproval), decided the same way by both stores. */
import type { Approval } from '@glacis/protocol';
import { CoordinatorError } from '../errors.js';
import { type SignatureRow, signatureFromRow } from './sqlite-rows.js';

/** The columns an added approval changes, as stored. */
export interface ApprovalUpdate {
  approvals: string;
  status: 'pending' | 'awaiting_approval';
  deadline: string;
}

/**
 * What adding `approval` to `row` writes, or `stale` when the request no longer holds the `expected`
 * number of approvals. Throws `not_found`, `signature_not_awaiting_approval` or `approval_exists`.
 * Called inside the store's transaction, on the row it read there (locked, in PostgreSQL).
 */
export function approvalUpdate(
  row: SignatureRow | undefined,
  approval: Approval,
  opts: { expected: number; release: { deadline: string } | null },
): ApprovalUpdate | 'stale' {
  if (!row) throw new CoordinatorError('not_found', 'no such signature');
  if (row.status !== 'awaiting_approval')
    throw new CoordinatorError('signature_not_awaiting_approval', `the request is ${row.status}, not awaiting approval`);
  const approvals = signatureFromRow(row).approvals;
  if (approvals.some((a) => a.approverKey === approval.approverKey || a.nonce === approval.nonce))
    throw new CoordinatorError('approval_exists', 'this approver (or this approval nonce) already approved the request');
  if (approvals.length !== opts.expected) return 'stale';
  return {
    approvals: JSON.stringify([...approvals, approval]),
    status: opts.release ? 'pending' : 'awaiting_approval',
    deadline: opts.release ? opts.release.deadline : row.deadline,
  };
}
