/**
 * Keys: suite, threshold, committee, public key and status, and each active key's certificate (its
 * DKG's and the lineage of refreshes, repairs and reshares since) checked in this browser against
 * the identity keys the user pinned (certificate.ts). A key that
 * does not verify is UNTRUSTED, in an alert at the top of the page and on its row; without pins
 * nothing is called verified. `#/keys/<keyId>` shows one key with every confirmation.
 */
import { type Key, keyDecoder } from '../api-types.js';
import { type KeyVerdict, verifyKeyCertificate } from '../certificate.js';
import { fill, h } from '../dom.js';
import { fingerprint, shortHex, when } from '../format.js';
import { fromHex } from '../hex.js';
import { badge, type Page, type PageContext, page, statusBadge } from '../page.js';
import { loadPins, loadRetired, type PinnedParties } from '../trust-store.js';

/** The certificate's cell: verified, UNTRUSTED with the reason, or why it was not checked. */
export function verdictBadge(key: Key, verdict: KeyVerdict | undefined, pinned: boolean): HTMLElement {
  if (key.status !== 'active') return badge('muted', 'no certificate yet');
  if (!pinned) return badge('warn', 'not checked: no identities pinned');
  if (verdict === undefined) return badge('busy', 'checking…');
  if (verdict.ok) return badge('ok', '✔ verified');
  return h(
    'span',
    { class: 'untrusted' },
    badge('bad', '✖ UNTRUSTED'),
    ' ',
    h('span', { class: 'reason' }, `${verdict.code}: ${verdict.reason}`),
  );
}

const keyName = (k: Key) => (k.label === null ? k.keyId : `${k.label} (${k.keyId})`);

function noPinsNotice(): HTMLElement {
  return h(
    'p',
    { class: 'notice' },
    'No party identity keys are pinned, so no certificate can be checked. Pin the keys the party operators gave you on the ',
    h('a', { href: '#/trust' }, 'Trust'),
    ' page.',
  );
}

async function verifyAll(ctx: PageContext, keys: readonly Key[], pins: PinnedParties): Promise<Map<string, KeyVerdict>> {
  const verdicts = new Map<string, KeyVerdict>();
  const retired = loadRetired();
  for (const k of keys) {
    if (ctx.signal.aborted) break;
    if (k.status === 'active') verdicts.set(k.keyId, await verifyKeyCertificate(ctx.subtle, k, pins, retired));
  }
  return verdicts;
}

async function renderList(ctx: PageContext): Promise<void> {
  const keys = await ctx.api.all('/v1/keys', 'keys', keyDecoder, { signal: ctx.signal });
  const pins = loadPins();
  const pinned = Object.keys(pins).length > 0;
  const verdicts = pinned ? await verifyAll(ctx, keys, pins) : new Map<string, KeyVerdict>();
  const refused = [...verdicts.values()].filter((v) => !v.ok);
  const rows = keys.map((k) =>
    h(
      'tr',
      { 'data-key': k.keyId, class: verdicts.get(k.keyId)?.ok === false ? 'row-untrusted' : null },
      h('th', { scope: 'row' }, h('a', { href: `#/keys/${encodeURIComponent(k.keyId)}` }, keyName(k))),
      h('td', null, k.suite),
      h('td', null, `${k.threshold} of ${k.parties.length}`),
      h('td', null, k.parties.join(', ')),
      h('td', null, statusBadge(k.status)),
      h('td', { class: 'hex', title: k.publicKey ?? '' }, k.publicKey === null ? '—' : shortHex(k.publicKey, 16)),
      h('td', { class: 'verdict' }, verdictBadge(k, verdicts.get(k.keyId), pinned)),
    ),
  );
  fill(
    ctx.main,
    h('h1', null, 'Keys'),
    refused.length > 0
      ? h(
          'div',
          { class: 'alarm', role: 'alert' },
          h(
            'strong',
            null,
            `${refused.length} ${refused.length === 1 ? 'key does' : 'keys do'} NOT verify against your pinned identities. `,
          ),
          'Do not fund or use them: the coordinator serves material its committee did not sign.',
        )
      : null,
    pinned ? null : noPinsNotice(),
    h(
      'table',
      { class: 'list' },
      h('caption', null, `${keys.length} keys; certificates checked in this browser against ${Object.keys(pins).length} pinned identities`),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Key', 'Suite', 'Threshold', 'Committee', 'Status', 'Public key', 'Certificate'].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h('tbody', null, rows),
    ),
  );
  ctx.status(`${keys.length} keys loaded`);
}

async function renderOne(ctx: PageContext, keyId: string): Promise<void> {
  const key = await ctx.api.get(`/v1/keys/${encodeURIComponent(keyId)}`, keyDecoder, ctx.signal);
  const pins = loadPins();
  const pinned = Object.keys(pins).length > 0;
  const verdict = pinned && key.status === 'active' ? await verifyKeyCertificate(ctx.subtle, key, pins, loadRetired()) : undefined;
  const lineage = key.certificate?.lineage ?? [];
  const confirmations = key.certificate?.confirmations ?? [];
  const prints = new Map<string, string>();
  for (const p of key.parties) {
    const pin = pins[p];
    if (pin !== undefined) prints.set(p, await fingerprint(ctx.subtle, fromHex(pin, 'pin')));
  }
  const pinCell = (partyId: string, coordinatorSays: string | null) => {
    const pin = pins[partyId];
    if (pin === undefined) return badge('warn', 'not pinned');
    if (coordinatorSays !== null && coordinatorSays !== pin) return badge('bad', 'coordinator names another key');
    return h('span', { class: 'hex' }, prints.get(partyId) ?? '');
  };

  let headline: HTMLElement;
  if (verdict?.ok) {
    headline = h(
      'p',
      { class: 'verified', role: 'status' },
      badge('ok', '✔ verified'),
      ' Every member of the committee signed this public key and these verifying shares with the identity key you pinned for it (checked in this browser).',
    );
  } else if (verdict !== undefined) {
    headline = h(
      'div',
      { class: 'alarm', role: 'alert' },
      h('strong', null, `UNTRUSTED KEY — ${verdict.code}`),
      h('p', null, verdict.reason),
      h('p', null, 'Do not fund or use this key: what the coordinator serves is not what the committee signed.'),
    );
  } else {
    headline =
      key.status === 'active'
        ? noPinsNotice()
        : h('p', { class: 'notice' }, `The key is ${key.status}: only an active key has a certificate.`);
  }

  fill(
    ctx.main,
    h('p', null, h('a', { href: '#/keys' }, '← All keys')),
    h('h1', null, `Key ${keyName(key)}`),
    headline,
    h(
      'dl',
      { class: 'fields' },
      h('dt', null, 'Status'),
      h('dd', null, statusBadge(key.status), key.error === null ? null : ` ${key.error.code}: ${key.error.message}`),
      h('dt', null, 'Suite'),
      h('dd', null, key.suite),
      h('dt', null, 'Threshold'),
      h('dd', null, `${key.threshold} of ${key.parties.length}`),
      h('dt', null, 'Committee'),
      h('dd', null, key.parties.join(', ')),
      h('dt', null, 'Public key'),
      h('dd', { class: 'hex wrap', id: 'public-key' }, key.publicKey ?? '—'),
      h('dt', null, 'Created'),
      h('dd', null, when(key.createdAt)),
      h('dt', null, 'Lineage'),
      h(
        'dd',
        { id: 'lineage' },
        lineage.length === 0
          ? 'as its DKG made it'
          : lineage.map((l) => `${l.operation} (${l.confirmations.map((c) => c.from).join(', ')})`).join(' → '),
      ),
      h('dt', null, 'Requests'),
      h('dd', null, h('a', { href: `#/requests/${encodeURIComponent(key.keyId)}` }, 'Signing requests of this key')),
    ),
    h('h2', null, 'Committee and confirmations'),
    h(
      'table',
      { class: 'list' },
      h(
        'caption',
        null,
        lineage.length === 0
          ? 'Each member’s signed dkg_confirm as the coordinator publishes it, beside the fingerprint of the key you pinned'
          : 'Each member’s latest signed confirmation (of its DKG or of the lineage above), beside the fingerprint of the key you pinned',
      ),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Party', 'Your pin (fingerprint)', 'Verifying share', 'Confirmation seq', 'Signature'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        key.parties.map((p) => {
          const c = [...confirmations, ...lineage.flatMap((l) => l.confirmations)].filter((x) => x.from === p).at(-1);
          const share = key.verifyingShares?.[p];
          return h(
            'tr',
            null,
            h('th', { scope: 'row' }, p),
            h('td', null, pinCell(p, c?.identityKey ?? null)),
            h('td', { class: 'hex', title: share ?? '' }, share === undefined ? '—' : shortHex(share, 16)),
            h('td', null, c === undefined ? badge('bad', 'missing') : String(c.seq)),
            h('td', { class: 'hex', title: c?.signature ?? '' }, c === undefined ? '—' : shortHex(c.signature, 16)),
          );
        }),
      ),
    ),
  );
  ctx.status(verdict === undefined ? 'key loaded' : verdict.ok ? 'key verified' : 'key UNTRUSTED');
}

export const keysPage: Page = page('keys', 'Keys', (ctx) => (ctx.arg === undefined ? renderList(ctx) : renderOne(ctx, ctx.arg)));
