/**
 * The SQL the PostgreSQL store runs, over the schema of migrations.ts. Row shapes are the SQLite
 * store's (sqlite-rows.ts): the columns have the same names and kinds in both.
 */

/** The database server's clock in ms since the epoch: every lease time is on this one clock. */
export const NOW_MS = '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT';

/**
 * Advisory lock keys (pg_advisory_xact_lock), held to the end of the transaction. AUDIT orders
 * every audit append, and every insert of a listed row, so `seq` order is commit order (a cursor
 * taken mid-way never skips a row committed later with a smaller seq).
 */
export const LOCKS = { audit: 0x676c6163_0001, migrate: 0x676c6163_0002, tokens: 0x676c6163_0003 } as const;

/**
 * The notification channel of settled rows; the payload is `kind:id`, where kind is a SettleKind
 * or `key_switched` (a refresh or reshare switched the key's material).
 */
export const SETTLED_CHANNEL = 'glacis_settled';

export const SQL = {
  key: 'SELECT * FROM keys WHERE key_id = $1',
  keysAfter: 'SELECT * FROM keys WHERE seq > $1 ORDER BY seq LIMIT $2',
  pendingKeys: "SELECT * FROM keys WHERE status = 'pending' ORDER BY seq",
  keyForUpdate: 'SELECT * FROM keys WHERE key_id = $1 FOR UPDATE',
  activeKeysOf: "SELECT * FROM keys WHERE status = 'active' AND parties::jsonb ? $1 ORDER BY seq",
  changeKey: `UPDATE keys SET threshold = $3, parties = $4, verifying_shares = $5, group_commitment = $6, generation = $7, lineage = $8
    WHERE key_id = $1 AND generation = $2 AND status = 'active'`,
  insertKey: `INSERT INTO keys (key_id, operation_id, label, suite, threshold, parties, status, created_at, requested_by)
    VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)`,
  settleKey: `UPDATE keys SET status = $2, public_key = $3, verifying_shares = $4, group_commitment = $5, certificate = $6,
    error = $7, settled_at = $8 WHERE key_id = $1 AND status = 'pending'`,
  sig: 'SELECT * FROM signatures WHERE signature_id = $1',
  sigForUpdate: 'SELECT * FROM signatures WHERE signature_id = $1 FOR UPDATE',
  sigsAfter: 'SELECT * FROM signatures WHERE key_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
  allSigsAfter: 'SELECT * FROM signatures WHERE seq > $1 ORDER BY seq LIMIT $2',
  sigsInStatusAfter: 'SELECT * FROM signatures WHERE status = $1 AND seq > $2 ORDER BY seq LIMIT $3',
  unsettledSigs: "SELECT * FROM signatures WHERE status IN ('pending', 'awaiting_approval', 'signing') ORDER BY seq",
  unsettledCount: "SELECT COUNT(*)::int AS n FROM signatures WHERE status IN ('pending', 'awaiting_approval', 'signing')",
  unsettledCountOfKey:
    "SELECT COUNT(*)::int AS n FROM signatures WHERE key_id = $1 AND status IN ('pending', 'awaiting_approval', 'signing')",
  insertSig: `INSERT INTO signatures (signature_id, key_id, message, intent, context, approvals, status, created_at, deadline, requested_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  markSigning: "UPDATE signatures SET status = 'signing' WHERE signature_id = $1 AND status = 'pending'",
  settleSig: `UPDATE signatures SET status = $2, signature = $3, signatures = $4, finalized = $5, signers = $6, error = $7,
    completed_at = $8 WHERE signature_id = $1 AND status IN ('pending', 'signing')`,
  settleAwaiting: `UPDATE signatures SET status = $2, error = $3, completed_at = $4
    WHERE signature_id = $1 AND status = 'awaiting_approval'`,
  setApprovals: `UPDATE signatures SET approvals = $2, status = $3, deadline = $4
    WHERE signature_id = $1 AND status = 'awaiting_approval'`,
  setExcluded: 'UPDATE signatures SET excluded = $2 WHERE signature_id = $1',
  policy: 'SELECT * FROM policies ORDER BY version DESC LIMIT 1',
  insertPolicy: 'INSERT INTO policies (version, digest, signed, distributed_at, distributed_by) VALUES ($1, $2, $3, $4, $5)',
  op: 'SELECT * FROM operations WHERE operation_id = $1',
  insertOp: "INSERT INTO operations (operation_id, key_id, type, status, created_at) VALUES ($1, $2, $3, 'pending', $4)",
  settleOp: "UPDATE operations SET status = $2, error = $3, completed_at = $4 WHERE operation_id = $1 AND status = 'pending'",
  insertLifecycleOp: `INSERT INTO operations (operation_id, key_id, type, status, created_at, params, requested_by)
    VALUES ($1, $2, $3, 'pending', $4, $5, $6)`,
  setOpProgress: 'UPDATE operations SET progress = $2 WHERE operation_id = $1',
  pendingShareOpsOfKey: `SELECT COUNT(*)::int AS n FROM operations
    WHERE key_id = $1 AND status = 'pending' AND type IN ('refresh', 'repair', 'reshare')`,
  idem: 'SELECT * FROM idempotency WHERE idem_key = $1 AND route = $2 AND token_name = $3',
  insertIdem: `INSERT INTO idempotency (idem_key, route, token_name, request_hash, status_code, response, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)`,
  putToken: `INSERT INTO tokens (name, token_sha256, role, source, created_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (name) DO UPDATE SET token_sha256 = EXCLUDED.token_sha256, role = EXCLUDED.role, source = EXCLUDED.source,
    created_at = EXCLUDED.created_at RETURNING *`,
  tokenByHash: 'SELECT * FROM tokens WHERE token_sha256 = $1',
  tokenByName: 'SELECT * FROM tokens WHERE name = $1',
  tokens: 'SELECT * FROM tokens ORDER BY name',
  deleteToken: 'DELETE FROM tokens WHERE name = $1',
  lastAudit: 'SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1',
  insertAudit: 'INSERT INTO audit (seq, at, type, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)',
  auditAfter: 'SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2',
  lock: 'SELECT pg_advisory_xact_lock($1)',
  notify: `SELECT pg_notify('${SETTLED_CHANNEL}', $1)`,

  insertLease: 'INSERT INTO work_leases (kind, id) VALUES ($1, $2)',
  removeLease: 'DELETE FROM work_leases WHERE kind = $1 AND id = $2',
  // Claimable now, whoever holds it: the holder's fence fails as lapsed, the next claim raises the epoch.
  freeLease: 'UPDATE work_leases SET expires_at = 0 WHERE kind = $1 AND id = $2',
  // The fence check locks the lease row, so a concurrent claim either commits first (and the
  // check sees its new epoch) or waits for the fenced write to commit.
  lockLease: `SELECT *, ${NOW_MS} AS now_ms FROM work_leases WHERE kind = $1 AND id = $2 FOR UPDATE`,
  // SKIP LOCKED: two instances claiming at once each take different rows, never wait for each
  // other, and never take a row a fenced write holds at this moment.
  claim: `WITH picked AS (
      SELECT kind, id FROM work_leases
      WHERE ($4::boolean OR expires_at <= ${NOW_MS}) AND ($5::text IS NULL OR (kind = $5 AND id = $6))
      ORDER BY expires_at, kind, id
      LIMIT $3
      FOR UPDATE SKIP LOCKED
    )
    UPDATE work_leases w SET owner = $1, epoch = w.epoch + 1, expires_at = ${NOW_MS} + $2
    FROM picked WHERE w.kind = picked.kind AND w.id = picked.id
    RETURNING w.*`,
  renew: `UPDATE work_leases w SET expires_at = ${NOW_MS} + $2
    FROM unnest($3::text[], $4::text[], $5::bigint[]) AS l(kind, id, epoch)
    WHERE w.kind = l.kind AND w.id = l.id AND w.epoch = l.epoch AND w.owner = $1 AND w.expires_at > ${NOW_MS}
    RETURNING w.*`,
  release: 'UPDATE work_leases SET expires_at = 0 WHERE owner = $1 AND expires_at > 0',
} as const;
