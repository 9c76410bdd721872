/**
 * The keystore secrets committed in deploy/secrets/ are public: shares sealed with them are
 * protected by nothing. They are recognised by their SHA-256 and refused unless GLACIS_DEMO=1 says
 * this is the local demo (unlock.ts). A test keeps these hashes equal to the committed files.
 */
import { createHash } from 'node:crypto';
import type { UnlockSource } from './sealing.js';

/** SHA-256 (hex) of each demo secret: party-1's passphrase (UTF-8), party-2's and party-3's KEKs (bytes). */
const DEMO_SECRET_SHA256: ReadonlySet<string> = new Set([
  '1ca344cfa204f09c94f8a5bc7e20f4e821d917b1442c07664dce753dcdd4156d',
  'e293c055486f66fb7493c096702600a41b125ee42c1d25cff974de0c03258632',
  'f0ab188bcb1d1c6e56560f973046be3080c0fb5f965a64f9625da72687d80c36',
]);

/** True when `source` is one of the committed demo secrets. */
export function isDemoSecret(source: UnlockSource): boolean {
  const bytes = source.kind === 'kek' ? source.kek : Buffer.from(source.passphrase, 'utf8');
  return DEMO_SECRET_SHA256.has(createHash('sha256').update(bytes).digest('hex'));
}
