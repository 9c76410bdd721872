/**
 * Which deadline a signing request gets (routes/v1/signing-deadline.ts, docs/offline.md): the
 * offline deadline exactly when its signer set needs the offline party — the key's committee holds
 * one and fewer than `threshold` online members are connected — and the signing timeout
 * otherwise. Parties outside the committee change nothing. test/offline-deadline.test.ts shows
 * the coordinator keeping both deadlines.
 */
import { describe, expect, it } from 'vitest';
import type { PartyStatus } from '../src/orchestrator/types.js';
import { type DeadlineDeps, signingDeadline } from '../src/routes/v1/signing-deadline.js';

const AT = Date.parse('2030-01-01T00:00:00.000Z');
const SIGNING = 60_000;
const OFFLINE = 86_400_000;
const after = (ms: number) => new Date(AT + ms).toISOString();

/** A coordinator whose parties are `online` (connected or not, as listed) and `offline`. */
function deps(parties: { id: string; mode: 'online' | 'offline'; connected?: boolean }[], offlineDeadlineMs: number | null = OFFLINE) {
  const status = parties.map(
    (p): PartyStatus => ({ partyId: p.id, mode: p.mode, connected: p.connected ?? p.mode === 'online' }) as PartyStatus,
  );
  return {
    orchestrator: { parties: () => status },
    signingTimeoutMs: SIGNING,
    ...(offlineDeadlineMs === null ? {} : { offlineDeadlineMs }),
  } satisfies DeadlineDeps;
}
const key = { parties: ['p1', 'p2', 'p3'], threshold: 2 };

describe('the deadline of a signing request', () => {
  it('2-of-3 with p3 offline and p1 down: only the vault can make the second share — the offline deadline', () => {
    const d = deps([
      { id: 'p1', mode: 'online', connected: false },
      { id: 'p2', mode: 'online' },
      { id: 'p3', mode: 'offline', connected: false },
    ]);
    expect(signingDeadline(d, key, AT)).toBe(after(OFFLINE));
  });

  it('2-of-3 with p3 offline and both online members connected: they can serve it — the signing timeout', () => {
    const d = deps([
      { id: 'p1', mode: 'online' },
      { id: 'p2', mode: 'online' },
      { id: 'p3', mode: 'offline', connected: false },
    ]);
    expect(signingDeadline(d, key, AT)).toBe(after(SIGNING));
  });

  it('a committee without an offline party keeps the signing timeout, however few are connected', () => {
    const d = deps([
      { id: 'p1', mode: 'online', connected: false },
      { id: 'p2', mode: 'online', connected: false },
      { id: 'p3', mode: 'online', connected: false },
      { id: 'vault', mode: 'offline', connected: false },
    ]);
    expect(signingDeadline(d, key, AT)).toBe(after(SIGNING));
  });

  it('connected online parties outside the committee do not make up for a member that is down', () => {
    const d = deps([
      { id: 'p1', mode: 'online', connected: false },
      { id: 'p2', mode: 'online' },
      { id: 'p3', mode: 'offline', connected: false },
      { id: 'p4', mode: 'online' },
      { id: 'p5', mode: 'online' },
    ]);
    expect(signingDeadline(d, key, AT)).toBe(after(OFFLINE));
  });

  it('without an offline deadline configured, the signing timeout', () => {
    const d = deps(
      [
        { id: 'p1', mode: 'online', connected: false },
        { id: 'p2', mode: 'online' },
        { id: 'p3', mode: 'offline', connected: false },
      ],
      null,
    );
    expect(signingDeadline(d, key, AT)).toBe(after(SIGNING));
  });
});
