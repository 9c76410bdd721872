/** How values read on a page. */
import { type Subtle, sha256 } from './ed25519.js';
import { toHex } from './hex.js';

/** `abcdef0123…` for long hex; the whole value stays in the element's title. */
export function shortHex(hex: string, keep = 12): string {
  return hex.length <= keep + 2 ? hex : `${hex.slice(0, keep)}…`;
}

/** An RFC 3339 time as the browser's locale writes it, or an em dash. */
export function when(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}

/** "12 s ago", "3 min ago", "2 h ago" relative to `nowMs`. */
export function ago(iso: string | null, nowMs: number): string {
  if (iso === null) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((nowMs - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/**
 * The protocol's `identityFingerprint`: the first 128 bits of SHA-256 of the 32-byte key as eight
 * groups of four hex digits, what operators read to each other by phone.
 */
export async function fingerprint(subtle: Subtle, identityKey: Uint8Array): Promise<string> {
  const hex = toHex((await sha256(subtle, identityKey)).subarray(0, 16));
  return hex.replace(/(.{4})(?!$)/g, '$1 ');
}
